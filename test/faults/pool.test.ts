// The database's connections: statements outside a transaction share DATABASE_POOL_SIZE connections (pipelined when
// busy), and transactions have connections of their own, so a transaction held open (a writer lane waiting on a
// lock, an import) never keeps a lookup waiting. Needs a server: the embedded database has one connection.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transactionPoolFor } from "../../src/db/client.js";
import { createServerTestDatabase, type TestDatabase } from "../helpers/db.js";
import { until } from "./support/process.js";

describe("the connection pool", () => {
  let t: TestDatabase;
  let db: TestDatabase["db"];

  beforeAll(async () => {
    t = await createServerTestDatabase({ poolSize: 2 });
    db = t.db;
  });

  afterAll(async () => {
    await t?.drop();
  });

  it("runs any number of concurrent statements on at most DATABASE_POOL_SIZE connections", async () => {
    const pids = await Promise.all(
      Array.from({ length: 40 }, () => db.query<{ pid: number }>("SELECT pg_backend_pid() AS pid FROM pg_sleep(0.01)").then(([r]) => r!.pid)),
    );
    expect(pids).toHaveLength(40);
    expect(new Set(pids).size).toBeLessThanOrEqual(2);
  });

  it("leaves transactions room for every writer lane and a few more", () => {
    expect(transactionPoolFor(2)).toBe(10);
    expect(transactionPoolFor(12)).toBe(16);
  });

  it("answers statements while transactions hold more connections than the pool has", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const opened: number[] = [];
    const transactions = Array.from({ length: 3 }, () =>
      db.transaction(async (tx) => {
        const [row] = await tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        opened.push(row!.pid);
        await held;
      }),
    );
    try {
      // With one pool for both, the third transaction would wait for a connection for ever: give up after 10 s.
      await until(() => opened.length === 3, 10_000, "three transactions open at once", 10);
      expect(opened, "three transactions open at once").toHaveLength(3);
      // Three transactions are open on three connections of their own; a statement outside them still runs.
      const answer = await Promise.race([
        db.query<{ pid: number }>("SELECT pg_backend_pid() AS pid").then(([r]) => r!.pid),
        new Promise<"blocked">((r) => setTimeout(() => r("blocked"), 10_000)),
      ]);
      expect(answer).not.toBe("blocked");
      expect(opened).not.toContain(answer);
      expect(new Set(opened).size).toBe(3);
    } finally {
      release();
      await Promise.all(transactions);
    }
  });
});
