// The real app in-process (app.request()) around a database of the suite's own.
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createApp, type AppEnv } from "../../src/app.js";
import { parseConfig, type Config } from "../../src/config.js";
import { isMigrated } from "../../src/db/migrate.js";
import { createLogger } from "../../src/http/logger.js";
import { Metrics } from "../../src/http/metrics.js";
import { Writer } from "../../src/ingest/writer.js";
import { instrumentDb, observeBatch } from "../../src/server.js";
import { createTestDatabase, type TestDatabase } from "./db.js";
import { assertMatchesSchema } from "./schema.js";

export type TestApp = {
  app: OpenAPIHono<AppEnv>;
  metrics: Metrics;
  config: Config;
  writer: Writer;
  database: TestDatabase;
  /** Sends a request in-process; JSON answers are checked against their route's documented schema. */
  request: (path: string, init?: RequestInit) => Promise<TestResponse>;
  close: () => Promise<void>;
};

export type TestResponse = { status: number; headers: Headers; text: string; json: () => any };

export async function createTestApp(env: Record<string, string> = {}, options: { database?: TestDatabase; clock?: () => Date } = {}): Promise<TestApp> {
  const config = parseConfig({ LOG_LEVEL: "silent", ...env });
  const database = options.database ?? (await createTestDatabase());
  const metrics = new Metrics();
  const db = instrumentDb(database.db, metrics);
  const writer = new Writer(db, { maxBatch: config.writerMaxBatch, maxQueue: config.writerMaxQueue, concurrency: config.writerConcurrency, onBatch: observeBatch(metrics) });
  const app = createApp({
    config,
    db,
    writer,
    logger: createLogger(config.logLevel),
    clock: options.clock ?? (() => new Date()),
    metrics,
    isMigrated: () => isMigrated(database.db),
  });
  const request = async (path: string, init?: RequestInit): Promise<TestResponse> => {
    const res = await app.request(path, init);
    const text = await res.text();
    const response: TestResponse = { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
    assertMatchesSchema(app, init?.method ?? "GET", path, response);
    return response;
  };
  return {
    app,
    metrics,
    config,
    writer,
    database,
    request,
    close: async () => {
      await writer.drain();
      if (!options.database) await database.drop();
    },
  };
}

/** A form-encoded POST to a callback route. */
export function form(fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  };
}
