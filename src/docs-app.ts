// An app built only to read its route definitions (the OpenAPI document). Its handlers are never called:
// the database and writer behind them refuse every use.
import { createApp } from "./app.js";
import { parseConfig } from "./config.js";
import type { Database } from "./db/client.js";
import { createLogger } from "./http/logger.js";
import { Metrics } from "./http/metrics.js";
import { Writer } from "./ingest/writer.js";

export function docsApp() {
  const refuse = () => Promise.reject(new Error("the documentation app has no database"));
  const db: Database = { driver: "postgres", query: refuse, transaction: refuse, exec: refuse, discardConnections: refuse, close: async () => {} };
  const config = parseConfig({});
  return createApp({
    config,
    db,
    writer: new Writer(db, { maxBatch: 1, maxQueue: 1 }),
    logger: createLogger("silent"),
    clock: () => new Date(0),
    metrics: new Metrics(),
    isMigrated: async () => false,
  });
}
