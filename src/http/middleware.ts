// Shared middleware: request id and the one-line access log.
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { Logger } from "./logger.js";

import type { Caller } from "../api/auth.js";

export type AppVariables = { requestId: string; caller: Caller };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes a sane X-Request-Id from the caller or makes one; echoes it in the answer. */
export function requestId(): MiddlewareHandler<{ Variables: AppVariables }> {
  return async function requestIdMiddleware(c, next) {
    const given = c.req.header("x-request-id");
    const id = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    await next();
  };
}

/** One line per request: method, route (never the query string: it may carry the callback token), status, time. */
export function accessLog(logger: Logger): MiddlewareHandler<{ Variables: AppVariables }> {
  return async function accessLogMiddleware(c, next) {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const line = {
      request_id: c.get("requestId"),
      method: c.req.method,
      route: routePath(c, -1) || new URL(c.req.url).pathname,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    if (status >= 500) logger.error(line, "request");
    else logger.info(line, "request");
  };
}
