// GET /metrics: Prometheus text format. With METRICS_TOKEN set it needs `Authorization: Bearer <token>`.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { createHash, timingSafeEqual } from "node:crypto";
import type { AppDeps, AppEnv } from "../app.js";
import { problem } from "../api/schemas.js";
import { ProblemError } from "./problem.js";

const digest = (v: string) => createHash("sha256").update(v).digest();

export function mountMetricsRoute(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const token = deps.config.metricsToken === null ? null : digest(deps.config.metricsToken);
  app.openapi(
    createRoute({
      method: "get",
      path: "/metrics",
      tags: ["operations"],
      summary: "Prometheus metrics (needs `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set)",
      responses: {
        200: { description: "Metrics in the Prometheus text format", content: { "text/plain": { schema: z.string() } } },
        401: problem("METRICS_TOKEN is set and the request did not carry it"),
      },
    }),
    async (c) => {
      if (token !== null) {
        const given = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
        if (given === undefined || !timingSafeEqual(digest(given), token)) {
          throw new ProblemError(401, "Unauthorized", "send the metrics token as `Authorization: Bearer <METRICS_TOKEN>`");
        }
      }
      deps.metrics.queueDepth.set(deps.writer.depth);
      const body = await deps.metrics.registry.metrics();
      return c.body(body, 200, { "content-type": deps.metrics.registry.contentType }) as never;
    },
  );
}
