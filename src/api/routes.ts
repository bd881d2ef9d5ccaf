// The /v1 API: keyed, JSON, problem+json errors. Middleware first (it applies to the routes mounted after it).
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../app.js";
import { isLoopbackHost } from "../config.js";
import { ApiKeyCache, apiKeyAuth } from "./auth.js";
import { apiBodyLimit } from "./body-limit.js";
import { mountCallbackListRoute } from "./callbacks.js";
import { mountErasureRoute } from "./erasure.js";
import { mountImportRoute } from "./import.js";
import { mountInboxRoutes } from "./inbox.js";
import { mountIvrRoutes } from "./ivr.js";
import { mountMessageRoutes } from "./messages.js";
import { mountNumberRoutes } from "./numbers.js";
import { mountReportRoutes } from "./reports.js";
import { mountStatsErrorsRoute } from "./stats-errors.js";
import { RateLimiter } from "./rate-limit.js";
import { mountStatsRoutes } from "./stats.js";

export function mountApiRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  // Auth and the per-caller rate limit: every /v1 answer, 401 and 404 included, carries RateLimit-* headers.
  const now = () => deps.clock().getTime();
  app.use(
    "/v1/*",
    apiKeyAuth({
      keys: deps.config.apiKeys,
      store: new ApiKeyCache({ db: deps.db, now }),
      allowOpen: isLoopbackHost(deps.config.host),
      limiter: new RateLimiter({ ratePerSec: deps.config.apiRatePerSec, burst: deps.config.apiRateBurst, now }),
    }),
  );
  app.use("/v1/*", apiBodyLimit(deps.config.apiBodyLimit));
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  mountCallbackListRoute(app, deps);
  mountImportRoute(app, deps);
  mountMessageRoutes(app, deps);
  mountStatsRoutes(app, deps);
  mountNumberRoutes(app, deps);
  mountStatsErrorsRoute(app, deps);
  mountInboxRoutes(app, deps);
  mountReportRoutes(app, deps);
  mountErasureRoute(app, deps);
  mountIvrRoutes(app, deps);
}
