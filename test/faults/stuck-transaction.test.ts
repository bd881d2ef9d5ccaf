// A transaction that never settles is given up after the writer's transactionTimeoutMs: its requests get 503
// (WriterUnavailableError), every connection is discarded (postgres.js can leave one waiting for ever after a network
// cut; kept, it would never return to the pool), and the writer goes on with fresh connections. Here the transaction
// is stuck on a lock another session holds; the statement that waited never commits, because its connection is gone.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/client.js";
import { Writer, WriterUnavailableError } from "../../src/ingest/writer.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { statusRecord } from "./support/records.js";

describe("a stuck transaction", () => {
  let database: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 2 });
    db = database.db;
  });

  afterAll(() => database?.drop());

  it("is given up after the timeout (503), its connections are replaced, and the writer goes on", async () => {
    const errors: string[] = [];
    const writer = new Writer(db, { maxBatch: 10, maxQueue: 10, transactionTimeoutMs: 500, onError: (_, context) => errors.push(context) });
    const holder = postgres(database.url!, { max: 1, onnotice: () => {} });
    const session = await holder.reserve();
    try {
      await session`BEGIN`;
      await session`LOCK TABLE callback_keys IN ACCESS EXCLUSIVE MODE`;
      const stuck = writer.submit(statusRecord("STUCK-1"));
      await expect(stuck).rejects.toBeInstanceOf(WriterUnavailableError);
      await expect(stuck).rejects.toMatchObject({ reason: "database_unavailable" });
      expect(errors).toContain("stuck transaction");
      await session`COMMIT`;
    } finally {
      session.release();
      await holder.end();
    }
    await expect(writer.submit(statusRecord("AFTER-1"))).resolves.toBe("stored");
    // The stuck statement ran once the lock was gone, on a connection already closed: it never committed.
    await new Promise((r) => setTimeout(r, 500));
    const rows = await db.query<{ smsc_id: string }>("SELECT smsc_id FROM callbacks ORDER BY smsc_id");
    expect(rows.map((r) => r.smsc_id)).toEqual(["AFTER-1"]);
    expect(errors.filter((e) => e === "stuck transaction")).toHaveLength(1);
  });
});
