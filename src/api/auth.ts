// API keys for /v1: `Authorization: Bearer <key>`. Keys are compared as SHA-256 hashes in constant time.
// With no key configured the API is open, which main.ts allows only on a loopback listener.
// Scopes are ordered: read < write < admin; a key may do what its scope and every lower scope allow.
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { ProblemError } from "../http/problem.js";

export type Scope = "read" | "write" | "admin";
export const SCOPES: readonly Scope[] = ["read", "write", "admin"];

/** Who is calling: the key's id and scope (null id: API_KEYS, or an open API). */
export type Caller = { keyId: string | null; scope: Scope };

export type ApiKeyOptions = { keys: readonly string[] };

const hash = (value: string) => createHash("sha256").update(value).digest();

export function apiKeyAuth(options: ApiKeyOptions): MiddlewareHandler<{ Variables: { caller: Caller } }> {
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
    c.set("caller", { keyId: null, scope: "admin" });
    await next();
  };
}

/** Route middleware: the caller's key must have `scope` (or a higher one); 403 otherwise. */
export function requireScope(scope: Scope): MiddlewareHandler<{ Variables: { caller: Caller } }> {
  return async function requireScopeMiddleware(c, next) {
    const caller = c.get("caller");
    if (!caller || SCOPES.indexOf(caller.scope) < SCOPES.indexOf(scope)) {
      throw new ProblemError(403, "Forbidden", `this route needs an API key with the "${scope}" scope`);
    }
    await next();
  };
}
