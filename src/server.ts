// Assembles the running service: database, migrations, writer, app, HTTP listener, and the graceful stop.
import { serve, type ServerType } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "./app.js";
import { isLoopbackHost, type Config } from "./config.js";
import { createDb, transactionPoolFor, type Database } from "./db/client.js";
import { countActiveApiKeys } from "./db/queries/api-keys.js";
import { isMigrated, migrate } from "./db/migrate.js";
import { errorFields, type Logger } from "./http/logger.js";
import { Metrics } from "./http/metrics.js";
import { RetentionSweeper } from "./ingest/retention.js";
import { Writer } from "./ingest/writer.js";
import { HYGIENE_UPLOAD_TIMEOUT_MS, HygieneJobs, startUploadSweeps } from "./services/hygiene.js";

/** Feeds the writer's batches into the batch-size and commit-time histograms. */
export function observeBatch(metrics: Metrics): (info: { size: number; ms: number; ok: boolean }) => void {
  return ({ size, ms, ok }) => {
    metrics.batchSize.observe(size);
    metrics.commitSeconds.observe({ result: ok ? "committed" : "failed" }, ms / 1000);
  };
}

/** Counts the statements and transactions under way (the in-flight gauge). */
export function instrumentDb(db: Database, metrics: Metrics): Database {
  const track = async <T>(work: () => Promise<T>): Promise<T> => {
    metrics.queriesInFlight.inc();
    try {
      return await work();
    } finally {
      metrics.queriesInFlight.dec();
    }
  };
  return {
    ...db,
    query: (text, params) => track(() => db.query(text, params)),
    transaction: (fn) => track(() => db.transaction(fn)),
  };
}

export class StartupRefusedError extends Error {
  override name = "StartupRefusedError";
}

export type RunningService = {
  port: number;
  db: Database;
  writer: Writer;
  /** Stops accepting, finishes in-flight requests and pending batches, closes the database. */
  stop(): Promise<void>;
};

/**
 * Refuses an open API beyond loopback; warns about what is risky but allowed. `activeDbKeys`: how many keys made by
 * `smsc-hub keys create` are active (not revoked) in the database.
 */
export function checkExposure(config: Config, logger: Logger, activeDbKeys: number): void {
  const loopback = isLoopbackHost(config.host);
  if (config.apiKeys.length === 0 && activeDbKeys === 0) {
    if (!loopback) {
      throw new StartupRefusedError(
        `HOST=${config.host} listens beyond loopback and no API key exists, so /v1 would be open to anyone. ` +
          "Make a key with `npm run --silent cli -- keys create --name crm --scope read` (`node dist/cli.js keys create ...` " +
          "from a build), or set API_KEYS=<key>[,<key>...], or listen on 127.0.0.1.",
      );
    }
    logger.warn(
      "no API key exists: /v1 is open to anyone on this machine (loopback only) until one is made with " +
        "`npm run --silent cli -- keys create --name <name>` or set in API_KEYS",
    );
  }
  if (!loopback && config.accounts.length === 0 && config.signatureMode !== "enforce") {
    logger.warn(
      "LISTENING BEYOND LOOPBACK WITH NO CALLBACK TOKEN AND NO ENFORCED SIGNATURE: anyone who finds this address can post callbacks. " +
        "Set CALLBACK_TOKEN (and put ?token=... in the handler URL in the SMSC cabinet).",
    );
  }
}

/** Active keys in the api_keys table; 0 when the table does not exist yet (migrations not applied). */
async function countDbKeys(db: Database): Promise<number> {
  try {
    return await countActiveApiKeys(db);
  } catch (err) {
    if ((err as { code?: unknown }).code === "42P01") return 0; // undefined_table
    throw err;
  }
}

export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const rawDb = await createDb({ ...config, transactionPoolSize: transactionPoolFor(config.writerConcurrency) });
  try {
    if (config.migrateOnStart) {
      const { applied } = await migrate(rawDb);
      if (applied.length > 0) logger.info({ applied }, "migrations applied");
    }
    checkExposure(config, logger, config.apiKeys.length > 0 ? 0 : await countDbKeys(rawDb));
  } catch (err) {
    await rawDb.close().catch(() => {});
    throw err;
  }
  const metrics = new Metrics({ defaultMetrics: true });
  const db = instrumentDb(rawDb, metrics);
  const writer = new Writer(db, {
    maxBatch: config.writerMaxBatch,
    maxQueue: config.writerMaxQueue,
    concurrency: config.writerConcurrency,
    rollups: config.rollupMaintenance,
    onBatch: (info) => {
      observeBatch(metrics)(info);
      logger.debug({ size: info.size, ms: Math.round(info.ms * 10) / 10, ok: info.ok }, "batch");
    },
    onError: (err, context) => logger.error({ err: errorFields(err) }, context),
  });
  // Hygiene reports: uploads and classification running in the background; reports left running by a process that
  // died end as failed, expired ones are removed, and so are the staged lines of receipt imports that never
  // finished, now and every few minutes.
  const hygieneJobs = new HygieneJobs();
  const sweeps = startUploadSweeps(db, {
    clock: () => new Date(),
    onSweep: (r) => (r.interrupted.length > 0 || r.expired > 0 || r.abandonedImportLines > 0) && logger.info(r, "uploads swept"),
    onError: (err) => logger.error({ err: errorFields(err) }, "upload sweep failed"),
  });
  await sweeps.first;
  const app = createApp({ config, db, writer, logger, metrics, clock: () => new Date(), isMigrated: () => isMigrated(db), hygieneJobs });

  const retention =
    config.retentionDays > 0
      ? new RetentionSweeper(db, {
          days: config.retentionDays,
          onSweep: (removed) => logger.info({ removed }, "retention sweep"),
          onError: (err) => logger.error({ err: { message: (err as Error).message } }, "retention sweep failed"),
        })
      : null;
  retention?.start();

  const server: ServerType = await new Promise((resolve, reject) => {
    // A hygiene upload may take up to HYGIENE_UPLOAD_TIMEOUT_MS (Node's default gives a request 5 minutes).
    const serverOptions = { requestTimeout: HYGIENE_UPLOAD_TIMEOUT_MS + 60_000 };
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port, serverOptions }, () => resolve(s));
    s.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ host: config.host, port, database: db.driver }, "listening");

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      const http = server as Server;
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      // Running hygiene reports get a grace period; the rest end as failed ("interrupted"), which ends their uploads.
      sweeps.stop();
      const jobsStopped = hygieneJobs.stop(config.shutdownTimeoutMs / 3);
      // Keep-alive connections become idle once their in-flight request is answered: close them as they do.
      const sweeper = setInterval(() => http.closeIdleConnections(), 50);
      http.closeIdleConnections();
      try {
        await closed;
      } finally {
        clearInterval(sweeper);
      }
      await jobsStopped;
      await retention?.stop();
      await writer.drain();
      await db.close();
    })());
  return { port, db, writer, stop };
}
