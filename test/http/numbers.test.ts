// GET /v1/numbers/{phone}, POST /v1/numbers/lookup and GET /v1/numbers/{phone}/timeline, against a real database.
// Evidence is made the way production makes it: SMSC callbacks sent to the real callback route as form bodies.
// Expected verdicts come from test/fixtures/verdicts/rules.ts, written from the protocol reference and the issue.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { samples } from "../fixtures/callbacks/normalize.js";
import { hashApiKey } from "../../src/api/auth.js";
import type { Database } from "../../src/db/client.js";
import { createTestApp, form, type TestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { CALLBACK, IVR, getUrl, nextId, nextPhone } from "../fixtures/callbacks/http.js";
import { expectedRecheck, RULE_CASES, SEQUENCE_CASES } from "../fixtures/verdicts/rules.js";

const KEY = "test-key-numbers-0123456789";
const auth = { authorization: `Bearer ${KEY}` };
const ENV = { API_KEYS: KEY, API_RATE_PER_SEC: "100000", API_RATE_BURST: "100000" };

/** 2024-06-05T11:00:00Z: the event times of this suite's callbacks are minutes after it. */
const T0 = 1717585200;
const ts = (minutes: number) => String(T0 + minutes * 60);
const isoAt = (minutes: number) => new Date((T0 + minutes * 60) * 1000).toISOString();

let database: TestDatabase;
let t: TestApp;
const extra: TestApp[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  t = await createTestApp(ENV, { database });
});

afterAll(async () => {
  for (const app of extra) await app.close();
  await t?.close();
  await database?.drop();
});

async function appWith(env: Record<string, string>, options: { clock?: () => Date; db?: Database } = {}): Promise<TestApp> {
  const db = options.db ?? database.db;
  const app = await createTestApp({ ...ENV, ...env }, { database: { ...database, db }, ...(options.clock ? { clock: options.clock } : {}) });
  extra.push(app);
  return app;
}

async function send(fields: Record<string, string>, route: string = CALLBACK): Promise<void> {
  const res = await t.request(route, form(fields));
  expect([res.status, res.text]).toEqual([200, "OK"]);
}

/** One status callback: `type` null leaves the field out. */
async function sendStatus(phone: string, s: { type: number | null; status: number; err: number; minutes: number; extra?: Record<string, string> }): Promise<string> {
  const id = nextId();
  await send({
    id,
    phone,
    status: String(s.status),
    err: String(s.err),
    ts: ts(s.minutes),
    ...(s.type === null ? {} : { type: String(s.type) }),
    ...s.extra,
  });
  return id;
}

async function verdictOf(phone: string, query = "", app: TestApp = t) {
  const r = await app.request(`/v1/numbers/${encodeURIComponent(phone)}${query}`, { headers: auth });
  expect(r.status, r.text).toBe(200);
  return r.json();
}

// -----------------------------------------------------------------------------------------------------------------

describe("GET /v1/numbers/{phone}", () => {
  describe("verdict rules: each row through a stored callback and the route", () => {
    it.each(RULE_CASES)("$name → $verdict ($reason)", async (row) => {
      const phone = nextPhone();
      await sendStatus(phone, { type: row.type, status: row.status, err: row.err, minutes: 0 });
      const v = await verdictOf(phone);
      expect({ verdict: v.verdict, reason: v.reason, recheck: v.recheck }).toEqual({
        verdict: row.verdict,
        reason: row.reason,
        recheck: expectedRecheck(row.verdict),
      });
      if (row.kind === null) {
        expect(v.evidence).toEqual([]);
      } else {
        expect(v.evidence).toHaveLength(1);
        expect(v.evidence[0]).toMatchObject({ kind: row.kind, at: isoAt(0), status: row.status, err: row.err, verdict: row.verdict });
        expect(v.evidence[0].meaning).toEqual(expect.any(String));
      }
    });
  });

  describe("the newest deciding evidence wins", () => {
    it.each(SEQUENCE_CASES)("$name", async ({ steps, verdict, reason }) => {
      const phone = nextPhone();
      for (const step of steps) await sendStatus(phone, step);
      const v = await verdictOf(phone);
      expect([v.verdict, v.reason]).toEqual([verdict, reason]);
      const times = v.evidence.map((e: { at: string }) => e.at);
      expect(times).toEqual([...times].sort().reverse());
    });

    it("a message counts once, with its current status, whatever order its statuses arrive in", async () => {
      const phone = nextPhone();
      const id = nextId();
      await send({ id, phone, status: "1", err: "0", ts: ts(10), type: "0" });
      await send({ id, phone, status: "0", err: "0", ts: ts(5), type: "0" });
      await sendStatus(phone, { type: 4, status: 1, err: 6, minutes: 0 });
      const v = await verdictOf(phone);
      expect([v.verdict, v.reason]).toEqual(["valid_reachable", "delivered"]);
      expect(v.evidence.map((e: { kind: string; at: string }) => [e.kind, e.at])).toEqual([
        ["delivery", isoAt(10)],
        ["hlr", isoAt(0)],
      ]);
      expect([v.delivered_count, v.failed_count, v.last_delivered_at]).toEqual([1, 0, isoAt(10)]);
    });

    it("a delivery status that carried HLR fields counts once, as a delivery", async () => {
      const phone = nextPhone();
      await sendStatus(phone, { type: 0, status: 1, err: 0, minutes: 0, extra: { mcc: "250", mnc: "01" } });
      const v = await verdictOf(phone);
      expect(v.evidence.map((e: { kind: string }) => e.kind)).toEqual(["delivery"]);
      expect(v.operator).toMatchObject({ id: "250-01", mcc: "250", mnc: "01" });
    });
  });

  describe("many neutral outcomes", () => {
    it("an old deciding answer still decides behind more neutral outcomes than the evidence read takes", async () => {
      const phone = nextPhone();
      await sendStatus(phone, { type: 4, status: 1, err: 1, minutes: 0 }); // unknown subscriber
      const neutral = Array.from({ length: 210 }, (_, i) => ({ type: 0, status: 24, err: 0, minutes: 1 + i }));
      for (let i = 0; i < neutral.length; i += 30) await Promise.all(neutral.slice(i, i + 30).map((step) => sendStatus(phone, step)));
      const v = await verdictOf(phone);
      expect([v.verdict, v.reason]).toEqual(["invalid", "hlr_err_1"]);
    });
  });

  describe("max_age", () => {
    // The app's clock is 10 days after T0.
    const now = new Date((T0 + 10 * 86400) * 1000);
    let clocked: TestApp;
    beforeAll(async () => {
      clocked = await appWith({}, { clock: () => now });
    });

    it.each([
      ["no max_age: all evidence counts", "", "invalid", "hlr_err_1"],
      ["older than 1w: nothing fresh", "?max_age=1w", "unknown", "evidence_too_old"],
      ["older than 7d", "?max_age=7d", "unknown", "evidence_too_old"],
      ["the boundary counts (240h)", "?max_age=240h", "invalid", "hlr_err_1"],
      ["just inside (11d)", "?max_age=11d", "invalid", "hlr_err_1"],
      ["just past the boundary (239h)", "?max_age=239h", "unknown", "evidence_too_old"],
    ])("%s", async (_name, query, verdict, reason) => {
      const phone = nextPhone();
      await sendStatus(phone, { type: 4, status: 1, err: 1, minutes: 0 });
      const v = await verdictOf(phone, query, clocked);
      expect([v.verdict, v.reason, v.recheck]).toEqual([verdict, reason, expectedRecheck(verdict as "unknown")]);
      if (verdict === "unknown") expect(v.evidence).toEqual([]);
    });

    it("fresh evidence decides; old evidence is not listed", async () => {
      const phone = nextPhone();
      await sendStatus(phone, { type: 4, status: 1, err: 1, minutes: 0 }); // 10 days old
      await sendStatus(phone, { type: 0, status: 3, err: 6, minutes: 9 * 24 * 60 }); // 1 day old
      const v = await verdictOf(phone, "?max_age=2d", clocked);
      expect([v.verdict, v.reason, v.recheck]).toEqual(["valid_absent", "delivery_err_6", true]);
      expect(v.evidence.map((e: { kind: string }) => e.kind)).toEqual(["delivery"]);
      const all = await verdictOf(phone, "", clocked);
      expect(all.evidence.map((e: { kind: string }) => e.kind)).toEqual(["delivery", "hlr"]);
    });

    it.each(["7", "0d", "1.5d", "-1d", "7m", "d", "7 d"])("max_age=%s is a 400 naming max_age", async (value) => {
      const r = await t.request(`/v1/numbers/79161234567?max_age=${encodeURIComponent(value)}`, { headers: auth });
      expect(r.status).toBe(400);
      expect(r.json().errors.map((e: { field: string }) => e.field)).toEqual(["max_age"]);
    });
  });

  describe("phone input", () => {
    let phone: string;
    beforeAll(async () => {
      phone = "79161230001";
      await sendStatus(phone, { type: 4, status: 1, err: 0, minutes: 0 });
    });

    it.each(["+7 916 123-00-01", "89161230001", "79161230001", "8 (916) 123-00-01", "+7(916)1230001", "00 7 916 123 00 01"])("%s", async (input) => {
      const v = await verdictOf(input);
      expect(v).toMatchObject({ phone: "79161230001", e164: "+79161230001", verdict: "valid_reachable", reason: "hlr_ok" });
    });

    it("default_country reads national forms (KZ: 8 701 …)", async () => {
      const v = await verdictOf("8 701 123 45 67", "?default_country=kz");
      expect(v).toMatchObject({ phone: "77011234567", e164: "+77011234567", country: { iso: "KZ", name: "Kazakhstan" } });
      const gb = await verdictOf("020 7946 0000", "?default_country=GB");
      expect(gb).toMatchObject({ phone: "442079460000", country: { iso: "GB", name: "United Kingdom" } });
    });

    it.each(["RUS", "R", "XX", "12"])("default_country=%s is a 400 naming default_country", async (value) => {
      const r = await t.request(`/v1/numbers/79161234567?default_country=${value}`, { headers: auth });
      expect(r.status).toBe(400);
      expect(r.json().errors.map((e: { field: string }) => e.field)).toEqual(["default_country"]);
    });

    it.each(["abc", "hello world", "12", "+", "7916abc4567", "++79161234567", "1234567890123456789"])(
      "%j cannot be a phone number: 422 problem",
      async (input) => {
        const r = await t.request(`/v1/numbers/${encodeURIComponent(input)}`, { headers: auth });
        expect(r.status).toBe(422);
        expect(r.headers.get("content-type")).toContain("application/problem+json");
        expect(r.json()).toMatchObject({ status: 422, errors: [{ field: "phone" }] });
      },
    );

    it("a possible number the numbering plan rejects is invalid: not_in_numbering_plan", async () => {
      for (const input of ["+7 000 123 45 67", "+999 1234567"]) {
        const v = await verdictOf(input);
        expect(v).toMatchObject({ verdict: "invalid", reason: "not_in_numbering_plan", recheck: false, evidence: [] });
      }
      const v = await verdictOf("+7 000 123 45 67");
      expect(v).toMatchObject({ phone: "70001234567", e164: "+70001234567", country: { iso: null, name: null } });
    });

    it("but a delivery to such a number decides (the plan data lags new ranges)", async () => {
      await sendStatus("70001239999", { type: 0, status: 1, err: 0, minutes: 0 });
      expect(await verdictOf("+70001239999")).toMatchObject({ verdict: "valid_reachable", reason: "delivered" });
    });

    it("a number we know nothing about is unknown: no_evidence", async () => {
      const v = await verdictOf(nextPhone());
      expect(v).toMatchObject({
        verdict: "unknown",
        reason: "no_evidence",
        recheck: true,
        opted_out: false,
        country: { iso: "RU", name: "Russia" },
        operator: { id: null, mcc: null, mnc: null, name: null },
        roaming: { active: null, country: null, network: null },
        msc: null,
        imsi_masked: null,
        last_hlr_at: null,
        delivered_count: 0,
        failed_count: 0,
        last_delivered_at: null,
        evidence: [],
      });
    });
  });

  describe("what the HLR says about the number", () => {
    it("the protocol's HLR sample: operator, msc, masked IMSI, no roaming", async () => {
      const phone = nextPhone();
      await send({ ...samples.hlrHome, id: nextId(), phone, ts: ts(0) });
      const r = await t.request(`/v1/numbers/${phone}`, { headers: auth });
      const v = r.json();
      expect(v).toMatchObject({
        verdict: "valid_reachable",
        reason: "hlr_ok",
        recheck: false,
        country: { iso: "RU", name: "Russia" },
        operator: { id: "250-01", mcc: "250", mnc: "01", name: "MTS" },
        roaming: { active: false, country: null, network: null },
        msc: "79160010000",
        imsi_masked: "25001**********",
        last_hlr_at: isoAt(0),
      });
      expect(r.text).not.toContain("250011234567890");
    });

    it("roaming (the protocol's sample): rcn and rnet", async () => {
      const phone = nextPhone();
      await send({ ...samples.hlrRoaming, id: nextId(), phone, ts: ts(0) });
      const v = await verdictOf(phone);
      expect(v).toMatchObject({
        operator: { id: "250-02", name: "MegaFon" },
        roaming: { active: true, country: "Turkey", network: "Turkcell" },
        imsi_masked: "25002**********",
      });
    });

    it("without net, the operator is named from mcc/mnc; a 3-digit MNC keeps its IMSI prefix", async () => {
      const phone = nextPhone();
      await send({ id: nextId(), phone, status: "1", err: "0", ts: ts(0), type: "4", mcc: "250", mnc: "99" });
      expect((await verdictOf(phone)).operator).toEqual({ id: "250-99", mcc: "250", mnc: "99", name: "Beeline" });
      const us = nextPhone();
      await send({ id: nextId(), phone: us, status: "1", err: "0", ts: ts(0), type: "4", mcc: "310", mnc: "260", imsi: "310260123456789" });
      expect((await verdictOf(us)).imsi_masked).toBe("310260*********");
    });

    it("+7 7xx is Kazakhstan; its operator from the dataset", async () => {
      await send({ id: nextId(), phone: "77011230002", status: "1", err: "0", ts: ts(0), type: "4", mcc: "401", mnc: "02" });
      const v = await verdictOf("+7 701 123 00 02");
      expect(v).toMatchObject({ country: { iso: "KZ", name: "Kazakhstan" }, operator: { id: "401-02", name: "Kcell" } });
    });

    it("a message's mccmnc names the operator while no HLR did", async () => {
      const phone = nextPhone();
      await send({ id: nextId(), phone, status: "1", err: "0", ts: ts(0), mccmnc: "25001" });
      expect((await verdictOf(phone)).operator).toEqual({ id: "250-01", mcc: "250", mnc: "01", name: "MTS" });
    });

    it("counts deliveries and failures", async () => {
      const phone = nextPhone();
      await sendStatus(phone, { type: 0, status: 1, err: 0, minutes: 0 });
      await sendStatus(phone, { type: 0, status: 1, err: 0, minutes: 5 });
      await sendStatus(phone, { type: 0, status: 20, err: 254, minutes: 10 });
      await sendStatus(phone, { type: 4, status: 1, err: 0, minutes: 15 });
      const v = await verdictOf(phone);
      expect(v).toMatchObject({ delivered_count: 2, failed_count: 1, last_delivered_at: isoAt(5), last_hlr_at: isoAt(15), opted_out: false });
    });
  });

  describe("security", () => {
    it("needs a key", async () => {
      const r = await t.request("/v1/numbers/79161234567");
      expect(r.status).toBe(401);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
    });

    it("refuses a wrong key", async () => {
      const r = await t.request("/v1/numbers/79161234567", { headers: { authorization: "Bearer wrong" } });
      expect(r.status).toBe(401);
    });

    it("a read-scoped key from the table may read (read is the lowest scope: no key gets a 403 here)", async () => {
      const key = "read-only-key-for-numbers-0123456789";
      await database.db.query(`INSERT INTO api_keys (id, name, scope, key_hash, created_at) VALUES ($1, $2, 'read', $3, now())`, [
        "k-numbers-read",
        "numbers test",
        hashApiKey(key),
      ]);
      const r = await t.request("/v1/numbers/79161234567", { headers: { authorization: `Bearer ${key}` } });
      expect(r.status).toBe(200);
    });
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("POST /v1/numbers/lookup", () => {
  const lookup = (body: unknown, query = "", app: TestApp = t) =>
    app.request(`/v1/numbers/lookup${query}`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });

  it("answers in input order: verdicts, and per-item errors", async () => {
    const known = nextPhone();
    await sendStatus(known, { type: 4, status: 1, err: 1, minutes: 0 });
    const fresh = nextPhone();
    const national = `8${known.slice(1)}`;
    const r = await lookup({ numbers: [known, "abc", national, fresh, "+7 000 123 45 67", "", known] });
    expect(r.status).toBe(200);
    const items = r.json().items;
    expect(items).toHaveLength(7);
    expect(items[0]).toMatchObject({ input: known, phone: known, verdict: "invalid", reason: "hlr_err_1" });
    expect(items[1]).toEqual({ input: "abc", errors: [{ field: "numbers.1", message: expect.any(String) }] });
    expect(items[2]).toMatchObject({ input: national, phone: known, verdict: "invalid" });
    expect(items[3]).toMatchObject({ input: fresh, phone: fresh, verdict: "unknown", reason: "no_evidence" });
    expect(items[4]).toMatchObject({ verdict: "invalid", reason: "not_in_numbering_plan" });
    expect(items[5]).toEqual({ input: "", errors: [{ field: "numbers.5", message: expect.any(String) }] });
    const { input: _a, ...first } = items[0];
    const { input: _b, ...last } = items[6];
    expect(last).toEqual(first);
    // The same answer as the single-number route.
    expect(first).toEqual(await verdictOf(known));
  });

  it("takes default_country and max_age", async () => {
    const r = await lookup({ numbers: ["8 701 123 00 02"] }, "?default_country=KZ&max_age=1h");
    expect(r.json().items[0]).toMatchObject({ phone: "77011230002", country: { iso: "KZ" }, verdict: "unknown", reason: "evidence_too_old" });
  });

  it("an empty list is an empty answer", async () => {
    const r = await lookup({ numbers: [] });
    expect([r.status, r.json()]).toEqual([200, { items: [] }]);
  });

  it("reads the database in a few statements, whatever the number of numbers", async () => {
    let statements = 0;
    const counting: Database = {
      ...database.db,
      driver: database.db.driver,
      query: (text, params) => {
        statements++;
        return database.db.query(text, params);
      },
      transaction: (fn) => database.db.transaction(fn),
      exec: (s) => database.db.exec(s),
      close: () => database.db.close(),
    };
    const app = await appWith({}, { db: counting });
    const phones = Array.from({ length: 200 }, () => nextPhone());
    for (const p of phones.slice(0, 3)) await sendStatus(p, { type: 0, status: 1, err: 0, minutes: 0 });
    statements = 0;
    const r = await lookup({ numbers: phones }, "", app);
    expect(r.status).toBe(200);
    expect(r.json().items.filter((i: { verdict: string }) => i.verdict === "valid_reachable")).toHaveLength(3);
    expect(statements).toBeLessThanOrEqual(3);
  });

  it("takes 10,000 numbers", async () => {
    const numbers = Array.from({ length: 10_000 }, (_, i) => `+7 916 5${String(i).padStart(6, "0")}`);
    const r = await lookup({ numbers });
    expect(r.status).toBe(200);
    const items = r.json().items;
    expect(items).toHaveLength(10_000);
    expect(items[9999]).toMatchObject({ input: numbers[9999], phone: "79165009999", verdict: "unknown" });
  });

  describe("errors", () => {
    it("10,001 numbers is a 400 naming numbers", async () => {
      const r = await lookup({ numbers: Array.from({ length: 10_001 }, () => "79161234567") });
      expect(r.status).toBe(400);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
      expect(r.json().errors.map((e: { field: string }) => e.field)).toEqual(["numbers"]);
    });

    it.each([
      ["no numbers", {}, "numbers"],
      ["numbers not a list", { numbers: "79161234567" }, "numbers"],
      ["a number not a string", { numbers: ["79161234567", 79161234567] }, "numbers.1"],
    ])("%s is a 400 naming %s", async (_name, body, field) => {
      const r = await lookup(body);
      expect(r.status).toBe(400);
      expect(r.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it("malformed JSON is a 400", async () => {
      const r = await t.request("/v1/numbers/lookup", { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: "{" });
      expect(r.status).toBe(400);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
    });

    it("a body that is not JSON is a 415", async () => {
      const r = await t.request("/v1/numbers/lookup", { method: "POST", headers: { ...auth, "content-type": "text/plain" }, body: "79161234567" });
      expect(r.status).toBe(415);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
    });

    it("a bad max_age is a 400", async () => {
      const r = await lookup({ numbers: [] }, "?max_age=forever");
      expect(r.status).toBe(400);
    });
  });

  describe("security", () => {
    it("needs a key", async () => {
      const r = await t.request("/v1/numbers/lookup", { method: "POST", headers: { "content-type": "application/json" }, body: '{"numbers":[]}' });
      expect(r.status).toBe(401);
    });

    it("refuses a wrong key", async () => {
      const r = await t.request("/v1/numbers/lookup", {
        method: "POST",
        headers: { authorization: "Bearer nope", "content-type": "application/json" },
        body: '{"numbers":[]}',
      });
      expect(r.status).toBe(401);
    });
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("GET /v1/numbers/{phone}/timeline", () => {
  const phone = "79161239876";
  let sms: string;
  let hlr: string;
  beforeAll(async () => {
    sms = nextId();
    hlr = nextId();
    await send({ id: sms, phone, status: "0", err: "0", ts: ts(1), type: "0", sender_id: "SHOP" });
    await send({ id: sms, phone, status: "1", err: "0", ts: ts(2), type: "0" });
    await send({ id: hlr, phone, status: "1", err: "0", ts: ts(3), type: "4", imsi: "250011234567890", mcc: "250", mnc: "01", net: "MTS" });
    await send({ id: nextId(), phone, mes: "STOP", to: "79585550101", ts: ts(4) });
    const ivr = await t.request(getUrl(IVR, { id: sms, phone, menu: "12", ts: ts(5) }));
    expect(ivr.status).toBe(200);
    await send({ waitcall: "1", phone, ts: ts(6) });
    // Another number's events stay out.
    await send({ id: nextId(), phone: "79161239875", status: "1", err: "0", ts: ts(7) });
  });

  const EXPECTED = [
    ["waitcall", 6],
    ["ivr", 5],
    ["incoming", 4],
    ["hlr", 3],
    ["message", 3],
    ["status", 2],
    ["status", 1],
    ["message", 1],
  ];

  it("lists everything newest first, each item {kind, at, ...details}", async () => {
    const r = await t.request(`/v1/numbers/${phone}/timeline`, { headers: auth });
    expect(r.status).toBe(200);
    const body = r.json();
    expect(body.items.map((i: { kind: string; at: string }) => [i.kind, i.at])).toEqual(EXPECTED.map(([k, m]) => [k, isoAt(m as number)]));
    expect(body.next_cursor).toBeNull();
    const [waitcall, ivr, incoming, hlrItem, hlrMessage, delivered, sent, message] = body.items;
    expect(waitcall).toEqual({ kind: "waitcall", at: isoAt(6), account: "default" });
    expect(ivr).toMatchObject({ smsc_id: sms, menu_path: "12" });
    expect(incoming).toMatchObject({ text: "STOP", to: "79585550101" });
    expect(hlrItem).toMatchObject({ smsc_id: hlr, status: 1, err: 0, mcc: "250", mnc: "01", network: "MTS", imsi_masked: "25001**********" });
    expect(hlrMessage).toMatchObject({ smsc_id: hlr, type: 4, type_name: "hlr" });
    expect(delivered).toMatchObject({ smsc_id: sms, status: 1, err: 0, meaning: expect.any(String) });
    expect(sent).toMatchObject({ smsc_id: sms, status: 0 });
    expect(message).toMatchObject({ smsc_id: sms, type: 0, type_name: "sms", status: 1, registered: false, sender: "SHOP" });
    expect(r.text).not.toContain("250011234567890");
  });

  it("pages with an opaque cursor, without gaps or repeats", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : "";
      const r = await t.request(`/v1/numbers/${phone}/timeline?limit=3${q}`, { headers: auth });
      expect(r.status).toBe(200);
      const body = r.json();
      expect(body.items.length).toBeLessThanOrEqual(3);
      seen.push(...body.items.map((i: { kind: string; at: string }) => `${i.kind}@${i.at}`));
      cursor = body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(EXPECTED.map(([k, m]) => `${k}@${isoAt(m as number)}`));
  });

  it("takes the number in any form", async () => {
    const r = await t.request(`/v1/numbers/${encodeURIComponent("8 (916) 123-98-76")}/timeline?limit=1`, { headers: auth });
    expect(r.json().items).toHaveLength(1);
  });

  it("a number with no events has an empty timeline", async () => {
    const r = await t.request(`/v1/numbers/${nextPhone()}/timeline`, { headers: auth });
    expect(r.json()).toEqual({ items: [], next_cursor: null });
  });

  describe("errors", () => {
    it.each([
      ["limit=0", "limit"],
      ["limit=1001", "limit"],
      ["cursor=not-a-cursor", "cursor"],
      [`cursor=${Buffer.from('{"at":"x","rank":1,"id":1}').toString("base64url")}`, "cursor"],
    ])("%s is a 400 naming %s", async (query, field) => {
      const r = await t.request(`/v1/numbers/${phone}/timeline?${query}`, { headers: auth });
      expect(r.status).toBe(400);
      expect(r.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it("a path that cannot be a phone is a 422", async () => {
      const r = await t.request(`/v1/numbers/abc/timeline`, { headers: auth });
      expect(r.status).toBe(422);
    });
  });

  describe("security", () => {
    it("needs a key", async () => {
      expect((await t.request(`/v1/numbers/${phone}/timeline`)).status).toBe(401);
    });
    it("refuses a wrong key", async () => {
      expect((await t.request(`/v1/numbers/${phone}/timeline`, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    });
  });
});
