// Retention removing old rows while callbacks keep arriving: the callbacks still get 200, and are stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepRetention } from "../../src/ingest/retention.js";
import { createTestApp, form, type TestApp } from "../helpers/app.js";

describe("retention under load", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ API_RATE_BURST: "100000" });
    // 50,000 old callbacks and status events, written directly: the sweep has real work to do.
    await t.database.db.query(
      `INSERT INTO callbacks (account, kind, method, route, fields, received_at, phone, smsc_id)
       SELECT 'default', 'status', 'POST', '/callbacks/smsc', '{}'::jsonb, now() - interval '90 days', '7916' || lpad(g::text, 7, '0'), 'OLD' || g
       FROM generate_series(1, 50000) AS g`,
    );
    await t.database.db.query(
      `INSERT INTO status_events (account, smsc_id, phone, status, err, event_at, received_at, callback_id)
       SELECT 'default', 'OLD' || g, '7916' || lpad(g::text, 7, '0'), 1, 0, now() - interval '90 days', now() - interval '90 days', g
       FROM generate_series(1, 50000) AS g`,
    );
  });
  afterAll(() => t.close());

  it("answers every callback 200 while the sweep runs, and the sweep removes only the old rows", async () => {
    let sweeping = true;
    const sweep = sweepRetention(t.database.db, { days: 30, batch: 500 }).finally(() => (sweeping = false));
    const statuses: number[] = [];
    let i = 0;
    while (sweeping || i < 500) {
      const batch = Array.from({ length: 25 }, () => {
        const n = i++;
        return t.request("/callbacks/smsc", form({ id: `LIVE${n}`, phone: `7926${String(n).padStart(7, "0")}`, status: "1", err: "0" }));
      });
      statuses.push(...(await Promise.all(batch)).map((r) => r.status));
      if (i > 20_000) break; // bounded
    }
    const removed = await sweep;
    expect(removed).toEqual({ callbacks: 50_000, status_events: 50_000 });
    expect(statuses.every((s) => s === 200)).toBe(true);
    const [live] = await t.database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM callbacks WHERE smsc_id LIKE 'LIVE%'");
    expect(live!.n).toBe(statuses.length);
    const [old] = await t.database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM callbacks WHERE smsc_id LIKE 'OLD%'");
    expect(old!.n).toBe(0);
  });
});
