// A transaction that never settles is given up after the writer's transactionTimeoutMs: its requests get 503
// (WriterUnavailableError), every connection is discarded (postgres.js can leave one waiting for ever after a network
// cut; kept, it would never return to the pool), and the writer goes on with fresh connections. Here the transaction
// is stuck on a lock another session holds; the statement that waited never commits, because its connection is gone.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { createDb, type Database } from "../../src/db/client.js";
import { migrate } from "../../src/db/migrate.js";
import { normalizeCallback } from "../../src/domain/callback.js";
import type { CallbackRecord } from "../../src/ingest/store.js";
import { Writer, WriterUnavailableError } from "../../src/ingest/writer.js";
import { createServerDatabase } from "../helpers/db.js";

const normalize = parseConfig({}).normalize;

function record(id: string): CallbackRecord {
  const fields = { id, phone: "79161234567", status: "1", err: "0", ts: "1717585400" };
  const receivedAt = new Date();
  return {
    account: "default",
    source: "main",
    method: "POST",
    route: "/callbacks/smsc",
    contentType: "application/x-www-form-urlencoded",
    sourceAddress: "127.0.0.1",
    fields,
    rawBody: null,
    rawQuery: null,
    receivedAt,
    signature: null,
    normalized: normalizeCallback(fields, "main", receivedAt, normalize),
  };
}

describe("a stuck transaction", () => {
  let database: { url: string; drop: () => Promise<void> };
  let db: Database;

  beforeAll(async () => {
    database = await createServerDatabase(process.env.DATABASE_URL!);
    db = await createDb({ databaseUrl: database.url, pgliteDir: "", poolSize: 2 });
    await migrate(db);
  });

  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it("is given up after the timeout (503), its connections are replaced, and the writer goes on", async () => {
    const errors: string[] = [];
    const writer = new Writer(db, { maxBatch: 10, maxQueue: 10, transactionTimeoutMs: 500, onError: (_, context) => errors.push(context) });
    const holder = postgres(database.url, { max: 1, onnotice: () => {} });
    const session = await holder.reserve();
    try {
      await session`BEGIN`;
      await session`LOCK TABLE callback_keys IN ACCESS EXCLUSIVE MODE`;
      const stuck = writer.submit(record("STUCK-1"));
      await expect(stuck).rejects.toBeInstanceOf(WriterUnavailableError);
      await expect(stuck).rejects.toMatchObject({ reason: "database_unavailable" });
      expect(errors).toContain("stuck transaction");
      await session`COMMIT`;
    } finally {
      session.release();
      await holder.end();
    }
    await expect(writer.submit(record("AFTER-1"))).resolves.toBe("stored");
    // The stuck statement ran once the lock was gone, on a connection already closed: it never committed.
    await new Promise((r) => setTimeout(r, 500));
    const rows = await db.query<{ smsc_id: string }>("SELECT smsc_id FROM callbacks ORDER BY smsc_id");
    expect(rows.map((r) => r.smsc_id)).toEqual(["AFTER-1"]);
    expect(errors.filter((e) => e === "stuck transaction")).toHaveLength(1);
  });
});
