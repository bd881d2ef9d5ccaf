// RETENTION_DAYS: old raw callbacks and status events go; statistics, messages and dedupe keys stay.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepRetention } from "../../src/ingest/retention.js";
import { createTestApp, form, type TestApp } from "../helpers/app.js";

const DAY = 86_400_000;
const NOW = Date.parse("2026-11-23T12:00:00Z");

describe("retention", () => {
  let t: TestApp;
  let clock = NOW - 40 * DAY;
  const count = async (sql: string) => (await t.database.db.query<{ n: number }>(sql))[0]!.n;

  beforeAll(async () => {
    t = await createTestApp({ API_RATE_BURST: "100000" }, { clock: () => new Date(clock) });
    for (let i = 0; i < 25; i++) await t.request("/callbacks/smsc", form({ id: `OLD${i}`, phone: `791644${String(i).padStart(5, "0")}`, status: "1", err: "0", ts: String((NOW - 40 * DAY) / 1000 + i) }));
    clock = NOW - DAY;
    for (let i = 0; i < 5; i++) await t.request("/callbacks/smsc", form({ id: `NEW${i}`, phone: `791655${String(i).padStart(5, "0")}`, status: "1", err: "0", ts: String((NOW - DAY) / 1000 + i) }));
    clock = NOW;
  });
  afterAll(() => t.close());

  it("removes raw callbacks and status events older than the cutoff, in batches, and keeps the rest", async () => {
    const messages = await count("SELECT count(*)::int AS n FROM messages");
    const rollups = await count("SELECT sum(messages)::int AS n FROM delivery_rollups");
    const removed = await sweepRetention(t.database.db, { days: 30, batch: 10, clock: () => new Date(NOW) });
    expect(removed).toEqual({ callbacks: 25, status_events: 25 });
    expect(await count("SELECT count(*)::int AS n FROM callbacks")).toBe(5);
    expect(await count("SELECT count(*)::int AS n FROM status_events")).toBe(5);
    expect(await count("SELECT count(*)::int AS n FROM messages")).toBe(messages);
    expect(await count("SELECT sum(messages)::int AS n FROM delivery_rollups")).toBe(rollups);
    expect(await sweepRetention(t.database.db, { days: 30, clock: () => new Date(NOW) })).toEqual({ callbacks: 0, status_events: 0 });
  });

  it("still recognises a late retry of a removed callback (its dedupe key stays)", async () => {
    const r = await t.request("/callbacks/smsc", form({ id: "OLD3", phone: "79164400003", status: "1", err: "0", ts: String((NOW - 40 * DAY) / 1000 + 3) }));
    expect(r.status).toBe(200);
    expect(await count("SELECT count(*)::int AS n FROM callbacks WHERE smsc_id = 'OLD3'")).toBe(0);
  });
});
