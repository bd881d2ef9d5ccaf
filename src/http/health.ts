// Liveness and readiness. /healthz does no I/O; /readyz answers 200 once migrations are applied, the database
// answers, a transaction can start (callbacks are committed in transactions, on connections of their own) and the
// writer's queue has room; 503 otherwise (a load balancer then sends callbacks elsewhere).
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../app.js";
import { STUCK_TRANSACTION_MS } from "../ingest/writer.js";
import { errorFields } from "./logger.js";

const HealthSchema = z.object({ status: z.literal("ok") }).openapi("Health");
const ReadySchema = z
  .object({ status: z.enum(["ready", "not_ready"]), checks: z.record(z.string(), z.string()) })
  .openapi("Readiness");

const READY_TIMEOUT_MS = 2000;

/**
 * A transaction check still unsettled after this long is stuck, as the writer's lanes judge theirs: a connection the
 * network lost without a word (postgres.js can wait on one for ever). Its connections are then discarded, as the
 * writer does, so that the next check runs on fresh ones: behind a load balancer that has taken the instance out, no
 * callback would come to make the writer do it.
 */
export const STUCK_CHECK_MS = STUCK_TRANSACTION_MS;

export function mountHealthRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  // One check at a time: while transactions cannot start, probes wait on the same one instead of piling up.
  let pending: { since: number; check: Promise<unknown> } | null = null;
  /** Gives up a stuck check (before any other check starts: discarding ends every statement in flight). */
  const discardIfStuck = async (): Promise<void> => {
    if (!pending || deps.clock().getTime() - pending.since <= STUCK_CHECK_MS) return;
    pending = null;
    deps.logger.warn({ stuck_ms: STUCK_CHECK_MS }, "readiness: a transaction check did not settle; connections discarded");
    await deps.db.discardConnections().catch((err: unknown) => deps.logger.error({ err: errorFields(err) }, "discarding connections"));
  };
  const transactionCheck = (): Promise<unknown> => {
    if (pending === null) {
      const entry = {
        since: deps.clock().getTime(),
        check: deps.db
          .transaction((tx) => tx.query("SELECT 1"))
          .finally(() => {
            if (pending === entry) pending = null;
          }),
      };
      entry.check.catch(() => {}); // a check given up above may still settle, with nobody waiting
      pending = entry;
    }
    return pending.check;
  };

  app.openapi(
    createRoute({
      method: "get",
      path: "/healthz",
      tags: ["operations"],
      summary: "Liveness: 200 while the process runs",
      responses: { 200: { description: "alive", content: { "application/json": { schema: HealthSchema } } } },
    }),
    (c) => c.json({ status: "ok" as const }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/readyz",
      tags: ["operations"],
      summary: "Readiness: 200 once migrations are applied, the database answers, a transaction can start and the writer's queue has room",
      responses: {
        200: { description: "ready", content: { "application/json": { schema: ReadySchema } } },
        503: { description: "not ready", content: { "application/json": { schema: ReadySchema } } },
      },
    }),
    async (c) => {
      const checks: Record<string, string> = {};
      await discardIfStuck();
      const [migrated, transaction] = await Promise.allSettled([
        withTimeout(deps.isMigrated(), READY_TIMEOUT_MS),
        withTimeout(transactionCheck(), READY_TIMEOUT_MS),
      ]);
      if (migrated.status === "fulfilled") {
        checks.database = "ok";
        checks.migrations = migrated.value ? "ok" : "pending";
      } else {
        checks.database = "unavailable";
      }
      checks.transactions = transaction.status === "fulfilled" ? "ok" : "unavailable";
      checks.writer = deps.writer.isFull ? "queue_full" : "ok";
      const ready = Object.values(checks).every((v) => v === "ok");
      return ready
        ? c.json({ status: "ready" as const, checks }, 200)
        : c.json({ status: "not_ready" as const, checks }, 503);
    },
  );
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
