// The /v1 API: keyed, JSON, problem+json errors.
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../app.js";
import { apiKeyAuth } from "./auth.js";
import { mountCallbackListRoute } from "./callbacks.js";
import { mountImportRoute } from "./import.js";

export function mountApiRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.use("/v1/*", apiKeyAuth({ keys: deps.config.apiKeys }));
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  mountCallbackListRoute(app, deps);
  mountImportRoute(app, deps);
}
