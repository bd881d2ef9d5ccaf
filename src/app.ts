// createApp(deps): mounts the routers and the one error handler. No I/O at import time; everything the app
// touches comes in through `deps`, so tests build it around a database of their own.
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { mountApiRoutes } from "./api/routes.js";
import type { Config } from "./config.js";
import { isConnectionError, type Database } from "./db/client.js";
import { fieldErrors, ProblemError, problemResponse } from "./http/problem.js";
import type { Logger } from "./http/logger.js";
import type { Metrics } from "./http/metrics.js";
import { mountMetricsRoute } from "./http/metrics-route.js";
import { accessLog, clientAddress, requestId, type AppVariables } from "./http/middleware.js";
import { mountDocsRoutes } from "./http/docs.js";
import { mountHealthRoutes } from "./http/health.js";
import { mountCallbackRoutes } from "./ingest/routes.js";
import type { Writer } from "./ingest/writer.js";
import type { HygieneJobs } from "./services/hygiene.js";

export type AppDeps = {
  config: Config;
  db: Database;
  writer: Writer;
  logger: Logger;
  clock: () => Date;
  metrics: Metrics;
  /** True once migrations are applied (readiness). */
  isMigrated: () => Promise<boolean>;
  /** Hygiene reports uploaded or classified in the background (a stop waits for them); default: the app's own. */
  hygieneJobs?: HygieneJobs;
};

export type AppEnv = { Variables: AppVariables };

export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw ProblemError.validation(fieldErrors(result.error.issues));
    },
  });
  app.use("*", requestId());
  app.use("*", clientAddress({ trustProxy: deps.config.trustProxy }));
  app.use("*", accessLog(deps.logger, deps.metrics));

  mountHealthRoutes(app, deps);
  mountMetricsRoute(app, deps);
  mountCallbackRoutes(app, deps);
  mountApiRoutes(app, deps);
  mountDocsRoutes(app);

  app.notFound((c) => problemResponse(c, new ProblemError(404, "Not found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError((err, c) => {
    if (err instanceof ProblemError) return problemResponse(c, err);
    if (err instanceof HTTPException && err.status < 500) {
      return problemResponse(c, new ProblemError(err.status as 400, err.message || "Bad request", err.message || "the request could not be read"));
    }
    if (String((err as { code?: unknown }).code ?? "").startsWith("22")) {
      // A value the database cannot take: a bound our validation missed. Answer 400, and log it to be fixed.
      deps.logger.warn({ err: { code: (err as { code?: string }).code, message: (err as Error).message }, request_id: c.get("requestId") }, "a request value reached the database unvalidated");
      return problemResponse(c, new ProblemError(400, "Invalid request", "a value in the request cannot be stored or compared"));
    }
    if ((err as { name?: string }).name === "WriterUnavailableError" || isConnectionError(err)) {
      return problemResponse(c, new ProblemError(503, "Service unavailable", "the database is unavailable; retry later", { headers: { "Retry-After": "5" } }));
    }
    deps.logger.error({ err: { name: (err as Error).name, message: (err as Error).message, stack: (err as Error).stack }, request_id: c.get("requestId") }, "unhandled error");
    return problemResponse(c, new ProblemError(500, "Internal error", "the server could not answer this request; it has been logged"));
  });
  return app;
}
