// With two lanes, a request whose dedupe key or message another lane is writing waits for that lane's commit
// instead of joining the other lane's transaction (where it would wait on Postgres's lock, holding up its whole
// batch). Needs a server: on the embedded database transactions run one at a time.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Database, Sql } from "../../src/db/client.js";
import { Writer } from "../../src/ingest/writer.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { statusRecord } from "./support/records.js";

describe("the writer's lanes", () => {
  let database: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 4 });
    db = database.db;
  });

  afterAll(() => database?.drop());

  it("never write the same callback or message in two transactions at once", async () => {
    // Each transaction's callbacks (their smsc ids, in order); the first transaction is held open before COMMIT.
    const batches: string[][] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const spy: Database = {
      ...db,
      transaction: (fn) =>
        db.transaction(async (tx) => {
          const ids: string[] = [];
          const watched: Sql = {
            query: (text, params, options) => {
              if (text.includes("INSERT INTO callback_keys")) ids.push(...(JSON.parse(params![0] as string) as { smscId: string }[]).map((r) => r.smscId));
              return tx.query(text, params, options);
            },
          };
          const result = await fn(watched);
          batches.push(ids);
          if (batches.length === 1) await held;
          return result;
        }),
    };
    const writer = new Writer(spy, { maxBatch: 100, maxQueue: 100, concurrency: 2 });

    const first = writer.submit(statusRecord("A-1"));
    await waitFor(() => batches.length === 1);
    // While A-1 is being written: its retry, a later status of the same message, and an unrelated callback (another
    // number, another day: no row of A-1's numbers or statistics cells in common, where it would wait on a lock).
    const retry = writer.submit(statusRecord("A-1"));
    const sameMessage = writer.submit(statusRecord("A-1", { status: "3" }));
    const other = writer.submit(statusRecord("B-1", { phone: "79167654321", ts: "1717685400" }));
    // The second lane writes only the unrelated one; the others wait for the first lane's commit.
    await expect(other).resolves.toBe("stored");
    expect(batches).toEqual([["A-1"], ["B-1"]]);
    // ...without a lane looking for work again and again meanwhile (it would keep a core busy until the commit).
    const take = vi.spyOn(writer as unknown as { take: () => unknown }, "take");
    await new Promise((r) => setTimeout(r, 200));
    expect(take.mock.calls.length).toBeLessThan(5);
    take.mockRestore();
    release();
    await expect(first).resolves.toBe("stored");
    await expect(retry).resolves.toBe("duplicate");
    await expect(sameMessage).resolves.toBe("stored");
    expect(batches).toEqual([["A-1"], ["B-1"], ["A-1", "A-1"]]);
    await writer.drain();

    const [message] = await db.query<{ status: number }>("SELECT status FROM messages WHERE smsc_id = 'A-1'");
    expect(message!.status).toBe(3);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}
