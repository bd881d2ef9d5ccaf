// /readyz and the transactions' connections: callbacks are committed in transactions, which have connections of
// their own (src/db/client.ts). While no transaction can start (every such connection held, or none can be
// opened), the statements' connections still answer, but nothing could be stored: /readyz must say so. Needs a
// server: the embedded database has one connection for everything.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STUCK_CHECK_MS } from "../../src/http/health.js";
import { createTestApp, type TestApp } from "../helpers/app.js";
import { createServerTestDatabase, type TestDatabase } from "../helpers/db.js";

describe("/readyz and transactions", () => {
  let database: TestDatabase;
  let db: TestDatabase["db"];
  let t: TestApp;
  let nowMs = Date.parse("2026-11-23T12:00:00Z");

  beforeAll(async () => {
    database = await createServerTestDatabase({ poolSize: 1, transactionPoolSize: 1 });
    db = database.db;
    t = await createTestApp({}, { database, clock: () => new Date(nowMs) });
  });

  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  const readiness = async () => {
    const r = await t.request("/readyz");
    return { status: r.status, body: r.json() };
  };

  /** Holds the only transaction connection until `release` is called. */
  async function holdTransaction() {
    let release!: () => void;
    const holding = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const begun = new Promise<void>((r) => (started = r));
    const held = db.transaction(async (tx) => {
      await tx.query("SELECT 1");
      started();
      await holding;
    });
    await begun;
    return { held, release };
  }

  const UNAVAILABLE = { status: 503, body: { status: "not_ready", checks: { database: "ok", migrations: "ok", transactions: "unavailable", writer: "ok" } } };

  it("is 503 with transactions unavailable while none can start, and 200 again once one can", async () => {
    expect(await readiness()).toEqual({ status: 200, body: { status: "ready", checks: { database: "ok", migrations: "ok", transactions: "ok", writer: "ok" } } });

    const { held, release } = await holdTransaction();

    // Two probes at once while the only transaction connection is held: both wait on one check, both answer 503.
    const during = await Promise.all([readiness(), readiness()]);
    for (const r of during) expect(r).toEqual(UNAVAILABLE);

    release();
    await held;
    expect((await readiness()).status).toBe(200);
  });

  it("gives up a check stuck past STUCK_CHECK_MS: connections are discarded and the next check runs on fresh ones", async () => {
    // A connection that never answers looks, from here, like one held for ever.
    const { held, release } = await holdTransaction();
    const heldOutcome = held.then(() => "committed", () => "failed");
    expect(await readiness()).toEqual(UNAVAILABLE);
    nowMs += STUCK_CHECK_MS - 1000;
    expect(await readiness()).toEqual(UNAVAILABLE); // the same check, still waiting: nothing discarded yet

    nowMs += 2000;
    expect(await readiness()).toEqual({ status: 200, body: { status: "ready", checks: { database: "ok", migrations: "ok", transactions: "ok", writer: "ok" } } });
    release();
    expect(await heldOutcome).toBe("failed"); // its connection was discarded under it
  });
});
