// What a stored callback derives: messages and status events, HLR results, per-number knowledge, incoming SMS,
// wait-call and IVR events; and the order-independent current status (design.md, "How a callback flows").
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, form, type TestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import {
  CALLBACK,
  IVR,
  callbacksWhere,
  getUrl,
  isoOf,
  messagesOf,
  nextId,
  nextPhone,
  rows,
  statusEventsOf,
} from "../fixtures/callbacks/http.js";
import { samples } from "../fixtures/callbacks/normalize.js";

let database: TestDatabase;
let t: TestApp;
const extra: TestApp[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  t = await createTestApp({}, { database });
});

afterAll(async () => {
  for (const app of extra) await app.close();
  await t?.close();
  await database?.drop();
});

async function appWith(env: Record<string, string>, clock?: () => Date): Promise<TestApp> {
  const app = await createTestApp(env, clock ? { database, clock } : { database });
  extra.push(app);
  return app;
}

async function send(fields: Record<string, string>, app: TestApp = t, route: string = CALLBACK): Promise<void> {
  const res = await app.request(route, form(fields));
  expect([res.status, res.text]).toEqual([200, "OK"]);
}

const TS = (iso: string) => String(Date.parse(iso) / 1000);
const utcText = `to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
const asUtc = (col: string) => utcText.replace("%s", col);

type NumberView = {
  phone: string;
  country_iso: string | null;
  mcc: string | null;
  mnc: string | null;
  imsi: string | null;
  msc: string | null;
  country_name: string | null;
  network: string | null;
  roaming: boolean | null;
  roaming_country: string | null;
  roaming_network: string | null;
  last_hlr_at: string | null;
  last_hlr_status: number | null;
  last_hlr_err: number | null;
  last_status: number | null;
  last_err: number | null;
  delivered_count: number;
  failed_count: number;
};

async function numberOf(phone: string): Promise<NumberView | undefined> {
  const [row] = await rows<NumberView>(
    t,
    `SELECT phone, country_iso, mcc, mnc, imsi, msc, country_name, network, roaming, roaming_country, roaming_network,
            ${asUtc("last_hlr_at")} AS last_hlr_at, last_hlr_status::int AS last_hlr_status, last_hlr_err,
            last_status::int AS last_status, last_err, delivered_count, failed_count
     FROM numbers WHERE phone = $1`,
    [phone],
  );
  return row;
}

type HlrView = {
  phone: string;
  status: number;
  err: number;
  imsi: string | null;
  msc: string | null;
  mcc: string | null;
  mnc: string | null;
  country: string | null;
  network: string | null;
  roaming_country: string | null;
  roaming_network: string | null;
  roaming: boolean | null;
  event_at: string;
};

async function hlrOf(smscId: string): Promise<HlrView[]> {
  return rows<HlrView>(
    t,
    `SELECT phone, status::int AS status, err, imsi, msc, mcc, mnc, country, network, roaming_country, roaming_network, roaming,
            ${asUtc("event_at")} AS event_at
     FROM hlr_results WHERE smsc_id = $1 ORDER BY event_at`,
    [smscId],
  );
}

// -----------------------------------------------------------------------------------------------------------------

describe("delivery status → message and status event", () => {
  it("cost, parts, sender and operator: the newest callback that has them, whatever order the callbacks arrive in", async () => {
    const phone = nextPhone();
    const delivered = { status: "1", err: "0", ts: "1717585420", type: "0" }; // says nothing of cost, parts, sender, operator
    const sent = { status: "0", err: "0", ts: "1717585410", type: "0", cost: "3.45", sms_cnt: "2", sender_id: "SHOP", mccmnc: "25001" };
    const queued = { status: "-1", err: "0", ts: "1717585405", type: "0", cost: "0.01", sms_cnt: "1", sender_id: "OLD", mccmnc: "25099" };
    for (const order of [[delivered, sent, queued], [delivered, queued, sent], [queued, delivered, sent], [sent, queued, delivered]]) {
      const id = nextId();
      for (const fields of order) await send({ id, phone, ...fields }); // each in its own request and transaction
      const [m] = await messagesOf(t, id);
      expect({ status: m!.status, cost: Number(m!.cost), parts: m!.parts, sender: m!.sender, mcc: m!.mcc, mnc: m!.mnc }).toEqual({
        status: 1,
        cost: 3.45,
        parts: 2,
        sender: "SHOP",
        mcc: "250",
        mnc: "01",
      });
      const api = await t.request(`/v1/messages/${id}`);
      expect(api.json().operator).toEqual({ id: "250-01", mcc: "250", mnc: "01" }); // where statistics count it
    }
  });

  it("the protocol's sample status: type, status, err as integer, final, cost, parts, sender, mcc/mnc from mccmnc", async () => {
    const id = nextId();
    const phone = nextPhone();
    await send({
      id,
      phone,
      status: "1",
      err: "0",
      time: "05.06.2024 14:03:27",
      ts: "1717585407",
      sms_cnt: "2",
      type: "0",
      cost: "3.45",
      sender_id: "SHOP",
      mccmnc: "25001",
    });
    const [m, ...more] = await messagesOf(t, id);
    expect(more).toEqual([]);
    expect({ ...m!, cost: Number(m!.cost) }).toEqual({
      account: "default",
      smsc_id: id,
      phone,
      type: 0,
      status: 1,
      err: 0,
      final: true,
      status_at: "2024-06-05T11:03:27Z",
      cost: 3.45,
      parts: 2,
      sender: "SHOP",
      mcc: "250",
      mnc: "01",
    });
    expect(await statusEventsOf(t, id)).toEqual([
      { smsc_id: id, phone, status: 1, err: 0, account: "default", event_at: "2024-06-05T11:03:27Z" },
    ]);
  });

  it.each<[string, Record<string, string>, Partial<Record<string, unknown>>]>([
    ["parts from cnt", { cnt: "3" }, { parts: 3 }],
    ["parts from sms_cnt", { sms_cnt: "4" }, { parts: 4 }],
    ["err 000 as 0", { status: "1", err: "000" }, { err: 0 }],
    ["a failure with its err", { status: "20", err: "6" }, { status: 20, err: 6, final: true }],
    ["a pending status is not final", { status: "0" }, { status: 0, final: false }],
    ["a stopped mailing is not final", { status: "-2" }, { status: -2, final: false }],
    ["not found (-3) is final", { status: "-3" }, { status: -3, final: true }],
    ["unavailable number (25) is final", { status: "25", err: "248" }, { status: 25, err: 248, final: true }],
    ["a voice call (type 7)", { type: "7", status: "1", err: "237" }, { type: 7, err: 237 }],
    ["mcc and mnc with leading zeros", { mccmnc: "40102" }, { mcc: "401", mnc: "02" }],
  ])("%s", async (_name, change, expected) => {
    const id = nextId();
    await send({ id, phone: nextPhone(), status: "1", err: "0", ts: "1717585407", ...change });
    expect((await messagesOf(t, id))[0]).toMatchObject(expected);
  });

  it.each<[string, Record<string, string>, Record<string, string>, string]>([
    ["ts", { ts: "1717585407" }, {}, "2024-06-05T11:03:27Z"],
    ["ts, when time is there too", { ts: "1717585400", time: "05.06.2024 14:03:27" }, {}, "2024-06-05T11:03:20Z"],
    ["time, read in Europe/Moscow by default", { time: "05.06.2024 14:03:27" }, {}, "2024-06-05T11:03:27Z"],
    ["time, in winter too (Moscow has no DST)", { time: "15.01.2024 03:00:00" }, {}, "2024-01-15T00:00:00Z"],
    ["time, read in SMSC_TIMEZONE", { time: "05.06.2024 14:03:27" }, { SMSC_TIMEZONE: "Asia/Yekaterinburg" }, "2024-06-05T09:03:27Z"],
    ["time, in UTC", { time: "05.06.2024 14:03:27" }, { SMSC_TIMEZONE: "UTC" }, "2024-06-05T14:03:27Z"],
  ])("event time from %s", async (_name, time, env, expected) => {
    const app = Object.keys(env).length > 0 ? await appWith(env) : t;
    const id = nextId();
    await send({ id, phone: nextPhone(), status: "1", ...time }, app);
    expect((await statusEventsOf(t, id)).map((e) => e.event_at)).toEqual([expected]);
    expect((await messagesOf(t, id))[0]!.status_at).toBe(expected);
  });

  it("event time: with neither ts nor time, the time received", async () => {
    const received = new Date("2024-07-01T08:09:10Z");
    const app = await appWith({}, () => received);
    const id = nextId();
    await send({ id, phone: nextPhone(), status: "0" }, app);
    expect((await statusEventsOf(t, id)).map((e) => e.event_at)).toEqual(["2024-07-01T08:09:10Z"]);
  });

  it("a new status of the same message adds a status event and moves the message", async () => {
    const id = nextId();
    const phone = nextPhone();
    await send({ id, phone, status: "0", ts: "1717585000" });
    await send({ id, phone, status: "1", ts: "1717585100" });
    expect((await statusEventsOf(t, id)).map((e) => [e.status, e.event_at])).toEqual([
      [0, isoOf(1717585000)],
      [1, isoOf(1717585100)],
    ]);
    expect(await messagesOf(t, id)).toHaveLength(1);
    expect((await messagesOf(t, id))[0]).toMatchObject({ status: 1, final: true, status_at: isoOf(1717585100) });
  });
});

describe("HLR results", () => {
  it("home network (the protocol's sample): hlr_results row and the number's facts, roaming false", async () => {
    const id = nextId();
    const phone = nextPhone();
    await send({ ...samples.hlrHome, id, phone });
    const [h, ...more] = await hlrOf(id);
    expect(more).toEqual([]);
    expect(h).toMatchObject({
      phone,
      status: 1,
      err: 0,
      imsi: "250011234567890",
      msc: "79160010000",
      mcc: "250",
      mnc: "01",
      country: "Russian Federation",
      network: "MTS",
      roaming: false,
      event_at: isoOf(1717585420),
    });
    expect(h!.roaming_country ?? "").toBe("");
    expect(h!.roaming_network ?? "").toBe("");
    expect(await numberOf(phone)).toMatchObject({
      imsi: "250011234567890",
      msc: "79160010000",
      mcc: "250",
      mnc: "01",
      country_name: "Russian Federation",
      network: "MTS",
      roaming: false,
      last_hlr_status: 1,
      last_hlr_err: 0,
      last_hlr_at: isoOf(1717585420),
      country_iso: "RU",
    });
    expect((await messagesOf(t, id))[0]).toMatchObject({ type: 4, status: 1 });
  });

  it("roaming (the protocol's sample): mnc 02 keeps its zero, roaming true with country and network", async () => {
    const id = nextId();
    const phone = nextPhone();
    await send({ ...samples.hlrRoaming, id, phone });
    expect((await hlrOf(id))[0]).toMatchObject({
      mcc: "250",
      mnc: "02",
      roaming: true,
      roaming_country: "Turkey",
      roaming_network: "Turkcell",
      network: "MegaFon",
    });
    expect(await numberOf(phone)).toMatchObject({
      mnc: "02",
      roaming: true,
      roaming_country: "Turkey",
      roaming_network: "Turkcell",
      network: "MegaFon",
    });
  });

  it.each<[string, Record<string, string>, boolean]>([
    ["only rcn filled", { rcn: "Turkey", rnet: "" }, true],
    ["only rnet filled", { rnet: "Turkcell" }, true],
    ["both empty", { rcn: "", rnet: "" }, false],
    ["only rcn, empty", { rcn: "" }, false],
  ])("roaming with %s → %s", async (_name, roamingFields, roaming) => {
    const id = nextId();
    await send({ id, phone: nextPhone(), status: "1", err: "0", ts: "1717585433", type: "4", mcc: "250", mnc: "02", ...roamingFields });
    expect((await hlrOf(id))[0]!.roaming).toBe(roaming);
  });

  it("an HLR answer is recognised by its fields without type=4", async () => {
    const id = nextId();
    await send({ id, phone: nextPhone(), status: "1", err: "0", ts: "1717585420", imsi: "250011234567890", mcc: "250", mnc: "01" });
    expect(await hlrOf(id)).toHaveLength(1);
    expect((await callbacksWhere(t, "id", id))[0]!.kind).toBe("hlr");
  });

  it("an unknown subscriber (type 4, status 20, err 1, no HLR data) is an HLR answer with its err", async () => {
    const id = nextId();
    const phone = nextPhone();
    await send({ id, phone, status: "20", err: "1", ts: "1717585440", type: "4" });
    expect(await hlrOf(id)).toMatchObject([{ status: 20, err: 1, imsi: null }]);
    expect(await numberOf(phone)).toMatchObject({ last_hlr_status: 20, last_hlr_err: 1 });
  });

  it("the number keeps the latest HLR facts, whatever order the answers arrive in", async () => {
    const phone = nextPhone();
    const hlr = (ts: string, net: string, mnc: string, rnet: string) => ({
      id: nextId(),
      phone,
      status: "1",
      err: "0",
      type: "4",
      ts,
      mcc: "250",
      mnc,
      net,
      cn: "Russian Federation",
      rcn: rnet ? "Turkey" : "",
      rnet,
    });
    await send(hlr("1717600000", "MegaFon", "02", "Turkcell"));
    await send(hlr("1717500000", "MTS", "01", ""));
    expect(await numberOf(phone)).toMatchObject({ network: "MegaFon", mnc: "02", roaming: true, last_hlr_at: isoOf(1717600000) });
    await send(hlr("1717700000", "Beeline", "99", ""));
    expect(await numberOf(phone)).toMatchObject({ network: "Beeline", mnc: "99", roaming: false, last_hlr_at: isoOf(1717700000) });
  });
});

describe("numbers", () => {
  it.each<[string, (digits: string) => string]>([
    ["+7 (916) 123-45-67", (d) => `+7 (${d.slice(1, 4)}) ${d.slice(4, 7)}-${d.slice(7, 9)}-${d.slice(9)}`],
    ["89161234567", (d) => `8${d.slice(1)}`],
    ["79161234567", (d) => d],
  ])("a phone sent as %s is keyed by its E.164 digits", async (_name, write) => {
    const digits = nextPhone();
    const id = nextId();
    await send({ id, phone: write(digits), status: "1", err: "0", ts: "1717585407" });
    expect((await messagesOf(t, id)).map((m) => m.phone)).toEqual([digits]);
    expect(await numberOf(digits)).toMatchObject({ phone: digits, country_iso: "RU", last_status: 1, last_err: 0, delivered_count: 1 });
    expect((await statusEventsOf(t, id)).map((e) => e.phone)).toEqual([digits]);
  });

  it("a Kazakh number (77011234567) gets country_iso KZ", async () => {
    const digits = `7701${nextPhone().slice(-7)}`;
    await send({ id: nextId(), phone: digits, status: "1", err: "0", ts: "1717585407" });
    expect(await numberOf(digits)).toMatchObject({ country_iso: "KZ" });
  });

  it("the number's last status is its newest by event time, and the counts follow each message's outcome", async () => {
    const phone = nextPhone();
    const a = nextId();
    const b = nextId();
    await send({ id: a, phone, status: "1", err: "0", ts: "1717585500", type: "0" });
    await send({ id: b, phone, status: "20", err: "6", ts: "1717585600", type: "0" });
    await send({ id: a, phone, status: "0", err: "0", ts: "1717585400", type: "0" });
    expect(await numberOf(phone)).toMatchObject({ last_status: 20, last_err: 6, delivered_count: 1, failed_count: 1 });
  });

  it("an e-mail message (type 8, phone is an address): stored without error, no numbers row", async () => {
    const id = nextId();
    const address = `client.${id}@example.com`;
    await send({ id, phone: address, status: "2", err: "0", ts: "1717585407", type: "8" });
    const [cb] = await callbacksWhere(t, "id", id);
    expect(cb).toMatchObject({ error: null, kind: "status" });
    expect(await messagesOf(t, id)).toMatchObject([{ type: 8, status: 2 }]);
    expect(await rows(t, `SELECT phone FROM numbers WHERE phone ILIKE $1`, [`%${id}%`])).toEqual([]);
  });
});

describe("incoming SMS, wait-call and IVR events", () => {
  it("incoming SMS (the protocol's sample): sender normalised, recipient, text, time from sent", async () => {
    const id = nextId();
    const digits = nextPhone();
    await send({ id, phone: `+${digits}`, mes: "STOP", to: "79585550101", sent: "05.06.2024 14:12:00" });
    const found = await rows(
      t,
      `SELECT smsc_id, phone, to_phone, text, ${asUtc("event_at")} AS event_at, fields FROM incoming_messages WHERE smsc_id = $1`,
      [id],
    );
    expect(found).toEqual([
      {
        smsc_id: id,
        phone: digits,
        to_phone: "79585550101",
        text: "STOP",
        event_at: "2024-06-05T11:12:00Z",
        fields: { id, phone: `+${digits}`, mes: "STOP", to: "79585550101", sent: "05.06.2024 14:12:00" },
      },
    ]);
    expect(await messagesOf(t, id)).toEqual([]);
  });

  it.each<[string, (id: string, digits: string) => Record<string, string>]>([
    ["from, message and to_phone", (id, digits) => ({ id, from: digits, message: "hello", to_phone: "79585550101", ts: "1717585920" })],
    ["sms_id, text and to", (id, digits) => ({ sms_id: id, phone: digits, text: "hello", to: "79585550101", ts: "1717585920" })],
  ])("incoming SMS with the aliases %s", async (_name, make) => {
    const id = nextId();
    const digits = nextPhone();
    await send(make(id, digits));
    const found = await rows(t, `SELECT smsc_id, phone, to_phone, text, ${asUtc("event_at")} AS event_at FROM incoming_messages WHERE phone = $1`, [digits]);
    expect(found).toEqual([{ smsc_id: id, phone: digits, to_phone: "79585550101", text: "hello", event_at: isoOf(1717585920) }]);
  });

  it("wait-call: a waitcall_events row with the phone and the time of ts", async () => {
    const digits = nextPhone();
    await send({ waitcall: "1", phone: digits, ts: "1717586000", md5: "0".repeat(32) });
    const found = await rows(t, `SELECT phone, ${asUtc("event_at")} AS event_at, fields FROM waitcall_events WHERE phone = $1`, [digits]);
    expect(found).toEqual([
      { phone: digits, event_at: isoOf(1717586000), fields: { waitcall: "1", phone: digits, ts: "1717586000", md5: "0".repeat(32) } },
    ]);
    expect((await callbacksWhere(t, "phone", digits))[0]).toMatchObject({ kind: "waitcall", error: null });
  });

  it("IVR (the protocol's sample, GET on the IVR route): message id, phone, menu path, time", async () => {
    const id = nextId();
    const digits = nextPhone();
    const res = await t.request(getUrl(IVR, { id, phone: digits, menu: "12", time: "05.06.2024 14:10:02" }));
    expect(res.status).toBe(200);
    const found = await rows(t, `SELECT smsc_id, phone, menu_path, ${asUtc("event_at")} AS event_at, fields FROM ivr_events WHERE smsc_id = $1`, [id]);
    expect(found).toEqual([
      { smsc_id: id, phone: digits, menu_path: "12", event_at: "2024-06-05T11:10:02Z", fields: { id, phone: digits, menu: "12", time: "05.06.2024 14:10:02" } },
    ]);
  });

  it("IVR on the main route, told apart by its key field", async () => {
    const id = nextId();
    await send({ id, phone: nextPhone(), key: "3", ts: "1717586100" });
    expect(await rows(t, `SELECT menu_path FROM ivr_events WHERE smsc_id = $1`, [id])).toEqual([{ menu_path: "3" }]);
    expect((await callbacksWhere(t, "id", id))[0]).toMatchObject({ kind: "ivr", error: null });
  });

  it("an event without a menu field is an IVR event on the IVR route, unknown on the main route", async () => {
    const onIvr = nextId();
    const onMain = nextId();
    await send({ id: onIvr, phone: nextPhone(), ts: "1717586100" }, t, IVR);
    await send({ id: onMain, phone: nextPhone(), ts: "1717586100" }, t, CALLBACK);
    expect(await rows(t, `SELECT menu_path FROM ivr_events WHERE smsc_id = $1`, [onIvr])).toEqual([{ menu_path: null }]);
    expect((await callbacksWhere(t, "id", onIvr))[0]).toMatchObject({ kind: "ivr", error: null });
    expect(await rows(t, `SELECT 1 FROM ivr_events WHERE smsc_id = $1`, [onMain])).toEqual([]);
    expect((await callbacksWhere(t, "id", onMain))[0]).toMatchObject({ kind: "unknown", error: "unclassified" });
  });

  it("a status on the IVR route is still a status", async () => {
    const id = nextId();
    await send({ id, phone: nextPhone(), status: "1", ts: "1717586100" }, t, IVR);
    expect((await messagesOf(t, id))[0]).toMatchObject({ status: 1 });
    expect(await rows(t, `SELECT 1 FROM ivr_events WHERE smsc_id = $1`, [id])).toEqual([]);
  });
});

// -----------------------------------------------------------------------------------------------------------------

type Ev = { status: number; ts: number; err?: number };

/** design.md: the greatest event under (final?, engagement?, event time, status code). */
function expectedCurrent(events: readonly Ev[]): Ev {
  const final = (s: number) => s === -3 || (s >= 1 && s <= 4) || (s >= 20 && s <= 25);
  const engaged = (s: number) => s === 2 || s === 4;
  const key = (e: Ev) => [final(e.status) ? 1 : 0, engaged(e.status) ? 1 : 0, e.ts, e.status];
  return events.reduce((best, e) => {
    const a = key(e);
    const b = key(best);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]! ? e : best;
    return best;
  });
}

/** What a number's counters count for a message of this current status (type 0). */
function outcomeOf(status: number): "delivered" | "failed" | null {
  if ([1, 2, 4].includes(status)) return "delivered";
  if ([3, 20, 21, 22, 23, 24, 25].includes(status)) return "failed";
  return null;
}

describe("out-of-order statuses", () => {
  it.each<[string, Ev[], number]>([
    ["delivered (ts 100), then sent (ts 50) → delivered", [{ status: 1, ts: 100 }, { status: 0, ts: 50 }], 1],
    ["sent (ts 50), then delivered (ts 100) → delivered", [{ status: 0, ts: 50 }, { status: 1, ts: 100 }], 1],
    ["clicked (ts 100), then delivered later (ts 200) → clicked: engagement beats", [{ status: 4, ts: 100 }, { status: 1, ts: 200 }], 4],
    ["read (ts 50) after delivered (ts 100) → read", [{ status: 1, ts: 100 }, { status: 2, ts: 50 }], 2],
    ["expired (ts 200) vs delivered (ts 100) → expired", [{ status: 3, ts: 200 }, { status: 1, ts: 100 }], 3],
    ["delivered (ts 100) vs expired (ts 200), other order → expired", [{ status: 1, ts: 100 }, { status: 3, ts: 200 }], 3],
    ["final expired, then pending with a later time → stays expired", [{ status: 3, ts: 100 }, { status: 0, ts: 500 }], 3],
    ["final delivered, then waiting with a later time → stays delivered", [{ status: 1, ts: 100 }, { status: -1, ts: 900 }], 1],
    ["final not-found (-3), then sent later → stays -3", [{ status: -3, ts: 100 }, { status: 0, ts: 200 }], -3],
    ["two finals at the same time: the greater code (20 over 1)", [{ status: 20, ts: 100 }, { status: 1, ts: 100 }], 20],
    ["two pending: the later one (stopped -2 after sent 0)", [{ status: -2, ts: 300 }, { status: 0, ts: 200 }], -2],
  ])("%s", async (_name, events, expected) => {
    const phone = nextPhone();
    const oneByOne = nextId();
    const together = nextId();
    for (const e of events) await send({ id: oneByOne, phone, status: String(e.status), err: "0", ts: String(1717000000 + e.ts), type: "0" });
    // The same events in one request burst (one group-commit batch).
    const answers = await Promise.all(
      events.map((e) => t.request(CALLBACK, form({ id: together, phone, status: String(e.status), err: "0", ts: String(1717000000 + e.ts), type: "0" }))),
    );
    expect(answers.map((a) => a.status)).toEqual(events.map(() => 200));
    const winner = events.find((e) => e.status === expected)!;
    for (const id of [oneByOne, together]) {
      const [m] = await messagesOf(t, id);
      expect(m).toMatchObject({ status: expected, status_at: isoOf(1717000000 + winner.ts) });
    }
    expect(expectedCurrent(events).status).toBe(expected); // the table agrees with design.md's rule
  });

  it("final never replaced by a pending one, whatever its time", async () => {
    const id = nextId();
    const phone = nextPhone();
    await send({ id, phone, status: "20", err: "1", ts: "1717000100" });
    for (const [s, ts] of [[0, 1717000200], [-1, 1717000300], [-2, 1717000400]] as const) {
      await send({ id, phone, status: String(s), err: "0", ts: String(ts) });
    }
    expect((await messagesOf(t, id))[0]).toMatchObject({ status: 20, err: 1, final: true, status_at: isoOf(1717000100) });
    expect(await statusEventsOf(t, id)).toHaveLength(4);
  });

  it("the same set in two orders to two message ids gives the same state; each message counted once", async () => {
    const phone = nextPhone();
    const set = [
      { status: -1, ts: 10, err: 0 },
      { status: 0, ts: 20, err: 0 },
      { status: 1, ts: 200, err: 0 },
      { status: 3, ts: 300, err: 6 },
    ];
    const first = nextId();
    const second = nextId();
    const post = (id: string, e: Ev) => send({ id, phone, status: String(e.status), err: String(e.err ?? 0), ts: String(1717000000 + e.ts), type: "0", cost: "1.10" });
    for (const e of set) await post(first, e);
    for (const e of [...set].reverse()) await post(second, e);
    const [a] = await messagesOf(t, first);
    const [b] = await messagesOf(t, second);
    expect(a).toMatchObject({ status: 3, err: 6, final: true, status_at: isoOf(1717000300) });
    expect({ ...b, smsc_id: first }).toEqual(a);
    expect(await numberOf(phone)).toMatchObject({ delivered_count: 0, failed_count: 2 });
  });

  it("a message counted as delivered before its type 4 was known stops counting once it is", async () => {
    const id = nextId();
    const phone = nextPhone();
    await send({ id, phone, status: "1", err: "0", ts: "1717000100" });
    expect(await numberOf(phone)).toMatchObject({ delivered_count: 1 });
    await send({ id, phone, status: "1", err: "0", ts: "1717000200", type: "4" });
    expect((await messagesOf(t, id))[0]).toMatchObject({ type: 4 });
    expect(await numberOf(phone)).toMatchObject({ delivered_count: 0, failed_count: 0 });
  });

  it("delivered then clicked in either order: the number counts two deliveries, no failure", async () => {
    const phone = nextPhone();
    const set = [
      { status: 0, ts: 50 },
      { status: 1, ts: 100 },
      { status: 4, ts: 90 },
    ];
    const first = nextId();
    const second = nextId();
    for (const e of set) await send({ id: first, phone, status: String(e.status), err: "0", ts: String(1717000000 + e.ts), type: "0" });
    for (const e of [set[2]!, set[0]!, set[1]!]) await send({ id: second, phone, status: String(e.status), err: "0", ts: String(1717000000 + e.ts), type: "0" });
    for (const id of [first, second]) expect((await messagesOf(t, id))[0]).toMatchObject({ status: 4, status_at: isoOf(1717000090) });
    expect(await numberOf(phone)).toMatchObject({ delivered_count: 2, failed_count: 0 });
  });

  it("an HLR-type message (type 4) never counts as delivered", async () => {
    const phone = nextPhone();
    await send({ id: nextId(), phone, status: "1", err: "0", ts: "1717000100", type: "4", mcc: "250", mnc: "01" });
    await send({ id: nextId(), phone, status: "1", err: "0", ts: "1717000200", type: "4" });
    expect(await numberOf(phone)).toMatchObject({ delivered_count: 0, failed_count: 0, last_hlr_status: 1 });
    await send({ id: nextId(), phone, status: "1", err: "0", ts: "1717000300", type: "0" });
    expect(await numberOf(phone)).toMatchObject({ delivered_count: 1, failed_count: 0 });
  });

  it("random sets of statuses, sent in two orders to two ids, end in the same state and counts", async () => {
    const statusCode = fc.constantFrom(-2, -1, 0, 1, 2, 3, 4, 20, 22, 23, 24, 25);
    const event = fc.record({ status: statusCode, ts: fc.integer({ min: 1, max: 40 }), err: fc.integer({ min: 0, max: 3 }) });
    // A set: no two events share (status, ts), so the current one is unique under design.md's key.
    const sets = fc.sample(
      fc.tuple(fc.uniqueArray(event, { minLength: 1, maxLength: 6, selector: (e) => `${e.status}@${e.ts}` }), fc.integer()),
      { numRuns: 6, seed: 20240605 },
    );
    for (const [set, salt] of sets) {
      const phone = nextPhone();
      const first = nextId();
      const second = nextId();
      const shuffled = [...set].sort((x, y) => ((x.ts * 31 + x.status + salt) % 7) - ((y.ts * 31 + y.status + salt) % 7) || y.ts - x.ts);
      for (const [id, order] of [[first, set], [second, shuffled]] as const) {
        for (const e of order) {
          await send({ id, phone, status: String(e.status), err: String(e.err), ts: String(1717000000 + e.ts), type: "0" });
        }
      }
      const want = expectedCurrent(set);
      const [a] = await messagesOf(t, first);
      const [b] = await messagesOf(t, second);
      const context = JSON.stringify({ set, shuffled });
      expect(a, context).toMatchObject({ status: want.status, err: want.err, status_at: isoOf(1717000000 + want.ts) });
      expect({ ...b, smsc_id: first }, context).toEqual(a);
      const outcome = outcomeOf(want.status);
      expect(await numberOf(phone), context).toMatchObject({
        delivered_count: outcome === "delivered" ? 2 : 0,
        failed_count: outcome === "failed" ? 2 : 0,
      });
    }
  });
});
