import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, form, type TestApp } from "../helpers/app.js";
import { bearer, makeKey } from "../helpers/keys.js";

const KEY = "test-key-optouts-0123456789abcdef";
const cp1251 = (t: string) => [...t].map((ch) => (ch.charCodeAt(0) === 0x401 ? "%A8" : ch.charCodeAt(0) >= 0x410 ? `%${(ch.charCodeAt(0) - 0x410 + 0xc0).toString(16).toUpperCase()}` : encodeURIComponent(ch))).join("");
const ts = (s: number) => String(1717585000 + s);

describe("incoming SMS, opt-outs and wait-call", () => {
  let t: TestApp;
  let n = 0;
  const phone = () => `7916555${String(n++).padStart(4, "0")}`;
  const mo = (fields: Record<string, string>, token = "tok-a") => t.request(`/callbacks/smsc?token=${token}`, form(fields));
  const verdict = async (p: string) => (await t.request(`/v1/numbers/${p}`, { headers: bearer(KEY) })).json();

  beforeAll(async () => {
    t = await createTestApp({ API_KEYS: KEY, CALLBACK_ACCOUNTS: "a:tok-a,b:tok-b", API_RATE_BURST: "100000" });
  });
  afterAll(() => t.close());

  describe("opt-outs", () => {
    it("STOP opts the sender out; START opts it back in", async () => {
      const p = phone();
      expect((await mo({ id: "MO1", phone: p, mes: "STOP", ts: ts(1) })).status).toBe(200);
      expect(await verdict(p)).toMatchObject({ opted_out: true });
      await mo({ id: "MO2", phone: p, mes: "start", ts: ts(2) });
      expect(await verdict(p)).toMatchObject({ opted_out: false });
    });

    it("reads windows-1251 (СТОП), ignores case and reads Ё as Е, trims the text", async () => {
      const p1 = phone();
      const r = await t.request("/callbacks/smsc?token=tok-a", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `id=MO3&phone=${p1}&mes=${cp1251("СТОП")}&ts=${ts(3)}` });
      expect(r.status).toBe(200);
      expect(await verdict(p1)).toMatchObject({ opted_out: true });
      const p2 = phone();
      await mo({ id: "MO4", phone: p2, mes: "  отписка \n", ts: ts(4) });
      expect(await verdict(p2)).toMatchObject({ opted_out: true });
      const p3 = phone();
      await t.request(`/callbacks/smsc?token=tok-a`, form({ id: "MO5", phone: p3, mes: "Стоп", ts: ts(5) }));
      expect(await verdict(p3)).toMatchObject({ opted_out: true });
    });

    it("only the whole text counts: a sentence with STOP in it does not opt out", async () => {
      const p = phone();
      await mo({ id: "MO6", phone: p, mes: "please STOP sending", ts: ts(6) });
      expect(await verdict(p)).toMatchObject({ opted_out: false });
    });

    it("the later message wins whatever order they arrive in", async () => {
      const a = phone();
      const b = phone();
      // a: STOP at 10, START at 20, arriving in that order; b: the same two, arriving reversed.
      await mo({ id: "MO7", phone: a, mes: "STOP", ts: ts(10) });
      await mo({ id: "MO8", phone: a, mes: "START", ts: ts(20) });
      await mo({ id: "MO9", phone: b, mes: "START", ts: ts(20) });
      await mo({ id: "MO10", phone: b, mes: "STOP", ts: ts(10) });
      expect(await verdict(a)).toMatchObject({ opted_out: false });
      expect(await verdict(b)).toMatchObject({ opted_out: false });
      // and the other way round: START earlier than STOP
      const c = phone();
      await mo({ id: "MO11", phone: c, mes: "STOP", ts: ts(40) });
      await mo({ id: "MO12", phone: c, mes: "START", ts: ts(30) });
      expect(await verdict(c)).toMatchObject({ opted_out: true });
    });

    it("is global across accounts", async () => {
      const p = phone();
      await mo({ id: "MO13", phone: p, mes: "STOP", ts: ts(50) }, "tok-a");
      await mo({ id: "MO14", phone: p, mes: "START", ts: ts(60) }, "tok-b");
      expect(await verdict(p)).toMatchObject({ opted_out: false });
      await mo({ id: "MO15", phone: p, mes: "UNSUBSCRIBE", ts: ts(70) }, "tok-b");
      expect(await verdict(p)).toMatchObject({ opted_out: true });
    });

    it("GET /v1/opt-outs lists the opted-out numbers, JSON and CSV, with pagination", async () => {
      const all: string[] = [];
      let cursor: string | null = null;
      do {
        const r: { items: { phone: string; e164: string; word: string; opted_out_at: string }[]; next_cursor: string | null } = (
          await t.request(`/v1/opt-outs?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { headers: bearer(KEY) })
        ).json();
        all.push(...r.items.map((i) => i.phone));
        for (const i of r.items) expect(i.e164).toBe(`+${i.phone}`);
        cursor = r.next_cursor;
      } while (cursor);
      const opted = (await t.database.db.query<{ phone: string }>("SELECT phone FROM opt_outs WHERE opted_out ORDER BY phone")).map((r) => r.phone);
      expect([...all].sort()).toEqual(opted);
      expect(opted.length).toBeGreaterThanOrEqual(5);
      const csv = await t.request("/v1/opt-outs?limit=1000", { headers: bearer(KEY, { accept: "text/csv" }) });
      expect(csv.headers.get("content-type")).toContain("text/csv");
      const [header, ...rows] = parse(csv.text) as string[][];
      expect(header).toEqual(["phone", "e164", "opted_out_at", "word", "message", "account"]);
      expect(rows.map((r) => r[0]).sort()).toEqual(opted);
      expect(rows.find((r) => r[3] === "ОТПИСКА")?.[4]).toBe("  отписка \n"); // the message as sent, quoted in CSV
    });

    it("needs a key", async () => {
      expect((await t.request("/v1/opt-outs")).status).toBe(401);
    });
  });

  describe("GET /v1/incoming", () => {
    it("lists incoming SMS newest first, filtered by phone, with the texts as sent", async () => {
      const p = phone();
      await mo({ id: "IN1", phone: p, mes: "first", to: "79585550101", sent: "05.06.2024 14:12:00" });
      await mo({ id: "IN2", phone: p, mes: "Привет", to: "79585550101", sent: "05.06.2024 14:13:00" });
      const r = await t.request(`/v1/incoming?phone=${p}&from=2024-06-01T00:00:00Z&to=2024-06-10T00:00:00Z`, { headers: bearer(KEY) });
      expect(r.status).toBe(200);
      expect(r.json().items).toEqual([
        { account: "a", id: "IN2", phone: p, e164: `+${p}`, to: "79585550101", text: "Привет", at: "2024-06-05T11:13:00.000Z", received_at: expect.any(String) },
        { account: "a", id: "IN1", phone: p, e164: `+${p}`, to: "79585550101", text: "first", at: "2024-06-05T11:12:00.000Z", received_at: expect.any(String) },
      ]);
    });

    it("rejects a bad phone filter, and needs a key", async () => {
      expect((await t.request("/v1/incoming?phone=abc", { headers: bearer(KEY) })).status).toBe(400);
      expect((await t.request("/v1/incoming")).status).toBe(401);
    });
  });

  describe("GET /v1/waitcall/{phone}", () => {
    it("says whether the number called to confirm, and when", async () => {
      const p = phone();
      const before = (await t.request(`/v1/waitcall/${p}`, { headers: bearer(KEY) })).json();
      expect(before).toEqual({ phone: p, e164: `+${p}`, called: false, last_called_at: null, calls: [] });
      await mo({ waitcall: "1", phone: p, ts: "1717586000" });
      await mo({ waitcall: "1", phone: p, ts: "1717586100" });
      const after = (await t.request(`/v1/waitcall/+${p}`, { headers: bearer(KEY) })).json();
      expect(after).toMatchObject({ called: true, last_called_at: "2024-06-05T11:15:00.000Z" });
      expect(after.calls).toHaveLength(2);
      const since = (await t.request(`/v1/waitcall/${p}?since=2024-06-05T11:14:00Z`, { headers: bearer(KEY) })).json();
      expect(since.calls).toHaveLength(1);
    });

    it("answers a read key, refuses no key", async () => {
      const read = await makeKey(t.database.db, "read");
      expect((await t.request(`/v1/waitcall/79161234567`, { headers: bearer(read.key) })).status).toBe(200);
      expect((await t.request(`/v1/waitcall/79161234567`)).status).toBe(401);
    });
  });
});
