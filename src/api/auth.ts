// API keys for /v1: `Authorization: Bearer <key>`. Keys are compared as SHA-256 hashes in constant time.
// With no key configured the API is open, which main.ts allows only on a loopback listener.
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { ProblemError } from "../http/problem.js";

export type ApiKeyOptions = { keys: readonly string[] };

const hash = (value: string) => createHash("sha256").update(value).digest();

export function apiKeyAuth(options: ApiKeyOptions): MiddlewareHandler {
  const hashes = options.keys.map(hash);
  return async function apiKeyAuthMiddleware(c, next) {
    if (hashes.length > 0) {
      const header = c.req.header("authorization") ?? "";
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) {
        throw new ProblemError(401, "Unauthorized", "send an API key as `Authorization: Bearer <key>`", {
          headers: { "WWW-Authenticate": 'Bearer realm="smsc-hub"' },
        });
      }
      const given = hash(match[1]!);
      let ok = false;
      for (const h of hashes) ok = timingSafeEqual(h, given) || ok;
      if (!ok) {
        throw new ProblemError(401, "Unauthorized", "the API key is not valid", {
          headers: { "WWW-Authenticate": 'Bearer realm="smsc-hub", error="invalid_token"' },
        });
      }
    }
    await next();
  };
}
