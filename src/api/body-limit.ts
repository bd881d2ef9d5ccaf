// API_BODY_LIMIT for /v1 request bodies: 413 problem+json past it. The streamed receipt import is not bound by it.
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ProblemError } from "../http/problem.js";

const STREAMED = new Set(["/v1/import/receipts", "/v1/reports/hygiene"]);

export function apiBodyLimit(maxSize: number): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize,
    onError: () => {
      throw new ProblemError(413, "Payload too large", `the request body is over API_BODY_LIMIT (${maxSize} bytes)`);
    },
  });
  return async function apiBodyLimitMiddleware(c, next) {
    if (c.req.method === "GET" || c.req.method === "HEAD" || STREAMED.has(c.req.path)) return next();
    return limit(c, next);
  };
}
