import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERASED_TABLES } from "../../src/db/queries/erasure.js";
import { createTestApp, form, type TestApp } from "../helpers/app.js";
import { bearer, makeKey } from "../helpers/keys.js";

const ADMIN = "test-admin-key-erasure-0123456789";

describe("DELETE /v1/numbers/{phone}", () => {
  let t: TestApp;
  const X = "79163330001";
  const Y = "79163330002";
  const rowsAbout = async (phone: string) => {
    const out: Record<string, number> = {};
    for (const table of ERASED_TABLES) out[table] = (await t.database.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE phone = $1`, [phone]))[0]!.n;
    out.anywhere_in_callbacks = (await t.database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM callbacks WHERE fields::text LIKE '%' || $1 || '%'", [phone]))[0]!.n;
    return out;
  };
  const rollupTotal = async () => (await t.database.db.query<{ n: number }>("SELECT coalesce(sum(messages), 0)::int AS n FROM delivery_rollups"))[0]!.n;

  beforeAll(async () => {
    t = await createTestApp({ API_KEYS: ADMIN, API_RATE_BURST: "100000" });
    for (const phone of [X, Y]) {
      await t.request("/v1/messages", { method: "POST", headers: bearer(ADMIN, { "content-type": "application/json" }), body: JSON.stringify({ messages: [{ id: `E-${phone}`, phone, sent_at: "2026-11-20T10:00:00Z" }] }) });
      await t.request("/callbacks/smsc", form({ id: `E-${phone}`, phone, status: "1", err: "0", ts: "1763632800" }));
      await t.request("/callbacks/smsc", form({ id: `H-${phone}`, phone, status: "1", err: "0", type: "4", imsi: "250011234567890", mcc: "250", mnc: "01" }));
      await t.request("/callbacks/smsc", form({ id: `M-${phone}`, phone, mes: "STOP", ts: "1763632900" }));
      await t.request("/callbacks/smsc", form({ waitcall: "1", phone, ts: "1763633000" }));
      await t.request("/callbacks/smsc/ivr", form({ id: `E-${phone}`, phone, menu: "1" }));
    }
  });
  afterAll(() => t.close());

  it("erases every row about the number, callbacks included, and keeps the rollups and other numbers", async () => {
    const before = await rowsAbout(X);
    for (const table of ["callbacks", "callback_keys", "messages", "status_events", "hlr_results", "numbers", "incoming_messages", "opt_outs", "waitcall_events", "ivr_events"]) {
      expect(before[table], table).toBeGreaterThan(0);
    }
    expect(before.callbacks).toBeGreaterThanOrEqual(5);
    const other = await rowsAbout(Y);
    const rollups = await rollupTotal();

    const r = await t.request(`/v1/numbers/${X}`, { method: "DELETE", headers: bearer(ADMIN) });
    expect(r.status).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ phone: X, e164: `+${X}`, suppressed: true });
    expect(body.erased.callbacks).toBe(before.callbacks);
    expect(body.erased.messages).toBe(before.messages);

    expect(Object.values(await rowsAbout(X)).every((n) => n === 0)).toBe(true);
    expect(await rowsAbout(Y)).toEqual(other);
    expect(await rollupTotal()).toBe(rollups);
  });

  it("an erased opted-out number still answers opted_out: true, and nothing else about it", async () => {
    const v = (await t.request(`/v1/numbers/${X}`, { headers: bearer(ADMIN) })).json();
    expect(v).toMatchObject({ opted_out: true, verdict: "unknown", delivered_count: 0, imsi_masked: null });
    const rows = await t.database.db.query<{ phone_hash: string }>("SELECT phone_hash FROM suppressions");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.phone_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.phone_hash).not.toContain(X);
    // An opt-in later lifts the suppression.
    await t.request("/callbacks/smsc", form({ id: "M-again", phone: X, mes: "START", ts: "1763640000" }));
    expect((await t.request(`/v1/numbers/${X}`, { headers: bearer(ADMIN) })).json()).toMatchObject({ opted_out: false });
  });

  it("a number that had not opted out leaves no suppression", async () => {
    const Z = "79163330003";
    await t.request("/callbacks/smsc", form({ id: "Z1", phone: Z, status: "1", err: "0" }));
    const r = (await t.request(`/v1/numbers/${Z}`, { method: "DELETE", headers: bearer(ADMIN) })).json();
    expect(r).toMatchObject({ suppressed: false });
    expect((await t.request(`/v1/numbers/${Z}`, { headers: bearer(ADMIN) })).json()).toMatchObject({ opted_out: false, verdict: "unknown" });
  });

  it("needs the admin scope, and a phone", async () => {
    const write = await makeKey(t.database.db, "write");
    expect((await t.request(`/v1/numbers/${Y}`, { method: "DELETE", headers: bearer(write.key) })).status).toBe(403);
    expect((await t.request(`/v1/numbers/${Y}`, { method: "DELETE" })).status).toBe(401);
    expect((await t.request(`/v1/numbers/abc`, { method: "DELETE", headers: bearer(ADMIN) })).status).toBe(422);
    expect((await rowsAbout(Y)).callbacks).toBeGreaterThan(0);
  });
});
