// Shared middleware: request id and the one-line access log.
import { getConnInfo } from "@hono/node-server/conninfo";
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";

import type { Caller } from "../api/auth.js";

export type AppVariables = { requestId: string; caller: Caller; clientAddress: string | null };

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

/**
 * One line per request: method, route (never the query string: it may carry the callback token), status, time; and
 * the request's duration in the HTTP latency histogram, by route.
 */
export function accessLog(logger: Logger, metrics?: Metrics): MiddlewareHandler<{ Variables: AppVariables }> {
  return async function accessLogMiddleware(c, next) {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const ms = performance.now() - started;
    const route = routePath(c, -1) || "unmatched";
    metrics?.httpSeconds.observe({ method: c.req.method, route, status: String(status) }, ms / 1000);
    const line = {
      request_id: c.get("requestId"),
      method: c.req.method,
      route,
      status,
      ms: Math.round(ms * 10) / 10,
    };
    if (status >= 500) logger.error(line, "request");
    else logger.info(line, "request");
  };
}

/**
 * The client's address, once per request: the connection's peer, or with `trustProxy` the first address of
 * X-Forwarded-For (set only behind a proxy you run: anyone can send the header). Null when not served by Node.
 */
export function clientAddress(options: { trustProxy: boolean }): MiddlewareHandler<{ Variables: AppVariables }> {
  return async function clientAddressMiddleware(c, next) {
    let address: string | null = null;
    if (options.trustProxy) address = c.req.header("x-forwarded-for")?.split(",")[0]?.trim() || null;
    if (address === null) {
      try {
        address = getConnInfo(c).remote.address ?? null;
      } catch {
        address = null; // in-process requests (tests)
      }
    }
    c.set("clientAddress", address);
    await next();
  };
}
