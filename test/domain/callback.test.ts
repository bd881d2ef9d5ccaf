// The callback normaliser (pure): classification (protocol §11), dedupe material, signature bases, error codes,
// event times and the derived records, table-driven over test/fixtures/callbacks/normalize.ts.
import { describe, expect, it } from "vitest";
import {
  classifyCallback,
  normalizeCallback,
  type CallbackSource,
  type Fields,
  type NormalizeOptions,
} from "../../src/domain/callback.js";
import { PHONE, classification, dedupePairs, samples } from "../fixtures/callbacks/normalize.js";

const MOSCOW: NormalizeOptions = { timeZone: "Europe/Moscow", defaultCountry: "RU" };
const RECEIVED = new Date("2024-06-05T12:00:00Z");

const normalize = (fields: Fields, source: CallbackSource = "main", receivedAt: Date = RECEIVED, options: NormalizeOptions = MOSCOW) =>
  normalizeCallback(fields, source, receivedAt, options);

describe("classifyCallback (protocol §11)", () => {
  it.each(classification)("%s → %s", (_name, fields, source, kind) => {
    expect(classifyCallback(fields, source)).toBe(kind);
    expect(normalize(fields, source).kind).toBe(kind);
  });
});

describe("normalizeCallback: the protocol's samples", () => {
  it("delivery status", () => {
    const n = normalize(samples.status);
    expect(n).toMatchObject({
      kind: "status",
      smscId: "48213",
      phone: PHONE,
      numberPhone: PHONE,
      numberCountry: "RU",
      error: null,
      incoming: null,
      waitcall: null,
      ivr: null,
    });
    expect(n.status).toEqual({
      smscId: "48213",
      phone: PHONE,
      type: 0,
      status: 1,
      err: 0,
      eventAt: new Date("2024-06-05T11:03:27Z"),
      cost: "3.45",
      parts: 1,
      sender: "SHOP",
      mcc: "250",
      mnc: "01",
      hlr: null,
    });
  });

  it("HLR, home network: facts kept as strings, roaming false", () => {
    const n = normalize(samples.hlrHome);
    expect(n).toMatchObject({ kind: "hlr", error: null });
    expect(n.status).toMatchObject({ type: 4, status: 1, err: 0, eventAt: new Date(1717585420 * 1000), mcc: "250", mnc: "01" });
    expect(n.status!.hlr).toMatchObject({
      imsi: "250011234567890",
      msc: "79160010000",
      mcc: "250",
      mnc: "01",
      country: "Russian Federation",
      network: "MTS",
      roaming: false,
    });
    expect(n.status!.hlr!.roamingCountry ?? "").toBe("");
    expect(n.status!.hlr!.roamingNetwork ?? "").toBe("");
  });

  it("HLR, roaming: mnc 02 keeps its zero", () => {
    const n = normalize(samples.hlrRoaming);
    expect(n.status!.hlr).toEqual({
      imsi: "250021234567891",
      msc: "905320000000",
      mcc: "250",
      mnc: "02",
      country: "Russian Federation",
      network: "MegaFon",
      roamingCountry: "Turkey",
      roamingNetwork: "Turkcell",
      roaming: true,
    });
    expect(n.numberPhone).toBe("79261234567");
  });

  it("HLR, unknown subscriber: an HLR answer with its err and no facts", () => {
    const n = normalize(samples.hlrUnknown);
    expect(n).toMatchObject({ kind: "hlr", error: null });
    expect(n.status).toMatchObject({ type: 4, status: 20, err: 1 });
    expect(n.status!.hlr).toMatchObject({ imsi: null, msc: null, mcc: null, mnc: null });
  });

  it.each<[string, Fields, boolean | null]>([
    ["rcn filled", { rcn: "Turkey", rnet: "" }, true],
    ["rnet filled", { rcn: "", rnet: "Turkcell" }, true],
    ["only rnet present, filled", { rnet: "Turkcell" }, true],
    ["both present and empty", { rcn: "", rnet: "" }, false],
    ["rcn present and empty", { rcn: "" }, false],
  ])("HLR roaming with %s → %s", (_name, roaming, expected) => {
    const n = normalize({ ...samples.hlrUnknown, status: "1", err: "0", mcc: "250", mnc: "01", ...roaming });
    expect(n.status!.hlr!.roaming).toBe(expected);
  });

  it("incoming SMS", () => {
    const n = normalize(samples.incoming);
    expect(n).toMatchObject({ kind: "incoming", error: null, status: null, signatureBase: null });
    // No opt-out words configured here: STOP is just a text.
    expect(n.incoming).toEqual({ smscId: "9911", phone: PHONE, to: "79585550101", text: "STOP", eventAt: new Date(1717585920 * 1000), opt: null });
    const withWords = normalize(samples.incoming, "main", RECEIVED, { ...MOSCOW, optOutWords: ["STOP"], optInWords: ["START"] });
    expect(withWords.incoming?.opt).toEqual({ intent: "out", word: "STOP" });
  });

  it("wait-call", () => {
    const n = normalize(samples.waitcall);
    expect(n).toMatchObject({ kind: "waitcall", error: null, status: null, phone: PHONE, numberPhone: PHONE });
    expect(n.waitcall).toEqual({ phone: PHONE, eventAt: new Date(1717586000 * 1000) });
  });

  it("IVR", () => {
    const n = normalize(samples.ivr, "ivr");
    expect(n).toMatchObject({ kind: "ivr", error: null, status: null, signatureBase: null });
    expect(n.ivr).toMatchObject({ smscId: "48300", phone: PHONE, menuPath: "12", eventAt: new Date("2024-06-05T11:10:02Z") });
  });

  it("an e-mail message (type 8): no error, no number", () => {
    const n = normalize({ id: "5", phone: "Client@Example.com", status: "2", err: "0", ts: "1717585407", type: "8" });
    expect(n).toMatchObject({ kind: "status", error: null, numberPhone: null, numberCountry: null });
    expect(n.status).toMatchObject({ type: 8, status: 2, err: 0 });
    expect(n.status!.phone.toLowerCase()).toBe("client@example.com");
  });
});

describe("normalizeCallback: status values", () => {
  it.each<[string, Fields, Record<string, unknown>]>([
    ["err as an integer", { err: "000" }, { err: 0 }],
    ["a non-zero err", { status: "20", err: "248" }, { status: 20, err: 248 }],
    ["a negative status", { status: "-3" }, { status: -3 }],
    ["parts from sms_cnt", { sms_cnt: "3" }, { parts: 3 }],
    ["parts from cnt", { cnt: "2" }, { parts: 2 }],
    ["sender from sender_id", { sender_id: "SHOP" }, { sender: "SHOP" }],
    ["mccmnc 25001 → 250 / 01", { mccmnc: "25001" }, { mcc: "250", mnc: "01" }],
    ["mccmnc 25002 → 250 / 02", { mccmnc: "25002" }, { mcc: "250", mnc: "02" }],
    ["a voice call (type 7)", { type: "7", err: "242" }, { type: 7, err: 242 }],
  ])("%s", (_name, change, expected) => {
    const n = normalize({ id: "1", phone: PHONE, status: "1", ts: "1717585407", ...change });
    expect(n.error).toBeNull();
    expect(n.status).toMatchObject(expected);
  });

  it.each<[string, string, string | null]>([
    ["+7 (916) 123-45-67", "79161234567", "RU"],
    ["89161234567", "79161234567", "RU"],
    ["8 916 123 45 67", "79161234567", "RU"],
    ["79161234567", "79161234567", "RU"],
    ["77011234567", "77011234567", "KZ"],
  ])("phone %s → %s (%s)", (raw, phone, country) => {
    const n = normalize({ id: "1", phone: raw, status: "1" });
    expect(n).toMatchObject({ phone, numberPhone: phone, numberCountry: country });
    expect(n.status!.phone).toBe(phone);
  });
});

describe("normalizeCallback: event time", () => {
  const at = (iso: string) => new Date(iso);
  it.each<[string, Fields, NormalizeOptions, Date]>([
    ["ts (unix seconds)", { ts: "1717585407" }, MOSCOW, at("2024-06-05T11:03:27Z")],
    ["ts wins over time", { ts: "1717585400", time: "05.06.2024 14:03:27" }, MOSCOW, at("2024-06-05T11:03:20Z")],
    ["time in Europe/Moscow (UTC+3)", { time: "05.06.2024 14:03:27" }, MOSCOW, at("2024-06-05T11:03:27Z")],
    ["time in Europe/Moscow across midnight", { time: "01.01.2024 01:30:00" }, MOSCOW, at("2023-12-31T22:30:00Z")],
    ["time in Asia/Yekaterinburg (UTC+5)", { time: "05.06.2024 14:03:27" }, { ...MOSCOW, timeZone: "Asia/Yekaterinburg" }, at("2024-06-05T09:03:27Z")],
    ["time in Europe/Berlin in summer (UTC+2)", { time: "05.06.2024 14:03:27" }, { ...MOSCOW, timeZone: "Europe/Berlin" }, at("2024-06-05T12:03:27Z")],
    ["time in Europe/Berlin in winter (UTC+1)", { time: "05.01.2024 14:03:27" }, { ...MOSCOW, timeZone: "Europe/Berlin" }, at("2024-01-05T13:03:27Z")],
    ["an unreadable ts falls back to time", { ts: "soon", time: "05.06.2024 14:03:27" }, MOSCOW, at("2024-06-05T11:03:27Z")],
    ["neither: the time received", {}, MOSCOW, RECEIVED],
    ["an unreadable time: the time received", { time: "yesterday" }, MOSCOW, RECEIVED],
  ])("status: %s", (_name, time, options, expected) => {
    const n = normalize({ id: "1", phone: PHONE, status: "1", ...time }, "main", RECEIVED, options);
    expect(n.status!.eventAt).toEqual(expected);
  });

  it.each<[string, Fields, Date]>([
    ["incoming: sent", { id: "1", phone: PHONE, mes: "x", sent: "05.06.2024 14:12:00" }, at("2024-06-05T11:12:00Z")],
    ["incoming: ts", { id: "1", phone: PHONE, mes: "x", ts: "1717585920" }, at("2024-06-05T11:12:00Z")],
    ["incoming: neither", { id: "1", phone: PHONE, mes: "x" }, RECEIVED],
  ])("%s", (_name, fields, expected) => {
    expect(normalize(fields).incoming!.eventAt).toEqual(expected);
  });

  it("wait-call without ts: the time received", () => {
    expect(normalize({ waitcall: "1", phone: PHONE }).waitcall!.eventAt).toEqual(RECEIVED);
  });

  it("IVR without a time: the time received", () => {
    expect(normalize({ id: "1", phone: PHONE, menu: "1" }).ivr!.eventAt).toEqual(RECEIVED);
  });
});

describe("normalizeCallback: unusable callbacks are values with an error", () => {
  it.each<[string, Fields, CallbackSource, string]>([
    ["status without id", { phone: PHONE, status: "1" }, "main", "missing_id"],
    ["status with an empty id", { id: " ", phone: PHONE, status: "1" }, "main", "missing_id"],
    ["status not an integer", { id: "1", phone: PHONE, status: "DELIVRD" }, "main", "bad_status"],
    ["status fractional", { id: "1", phone: PHONE, status: "1.0" }, "main", "bad_status"],
    ["status empty", { id: "1", phone: PHONE, status: "" }, "main", "bad_status"],
    ["status without phone", { id: "1", status: "1" }, "main", "missing_phone"],
    ["status with an empty phone", { id: "1", phone: "", status: "1" }, "main", "missing_phone"],
    ["HLR without phone", { id: "1", status: "1", type: "4" }, "main", "missing_phone"],
    ["incoming without phone", { id: "1", mes: "hi" }, "main", "missing_phone"],
    ["wait-call without phone", { waitcall: "1", ts: "1" }, "main", "missing_phone"],
    ["unclassifiable fields", { foo: "bar" }, "main", "unclassified"],
  ])("%s → %s, nothing derived", (_name, fields, source, code) => {
    const n = normalize(fields, source);
    expect(n.error?.code).toBe(code);
    expect(n.error?.message).toEqual(expect.any(String));
    expect(n).toMatchObject({ status: null, incoming: null, waitcall: null, ivr: null });
  });

  it("an err that is not an integer is an error too", () => {
    const n = normalize({ id: "1", phone: PHONE, status: "1", err: "none" });
    expect(n.error).not.toBeNull();
    expect(n.status).toBeNull();
  });

  it("unusable callbacks still have a dedupe key, so their retries are duplicates", () => {
    const a = normalize({ phone: PHONE, status: "1", md5: "a" }, "main", new Date(1));
    const b = normalize({ status: "1", phone: PHONE, md5: "b" }, "main", new Date(2));
    expect(a.dedupe).toBe(b.dedupe);
    expect(normalize({ phone: PHONE, status: "2" }).dedupe).not.toBe(a.dedupe);
  });
});

describe("normalizeCallback: dedupe material", () => {
  it.each(dedupePairs)("%s → same = %s", (_name, a, b, same) => {
    const da = normalize(a.fields, a.source ?? "main", new Date("2024-06-05T12:00:00Z")).dedupe;
    const db = normalize(b.fields, b.source ?? "main", new Date("2024-06-05T12:07:00Z")).dedupe;
    if (same) expect(db).toBe(da);
    else expect(db).not.toBe(da);
  });

  it("does not depend on the order of the fields for any kind", () => {
    for (const [, fields, source] of classification) {
      const reversed = Object.fromEntries(Object.entries(fields).reverse());
      expect(normalize(reversed, source).dedupe).toBe(normalize(fields, source).dedupe);
    }
  });
});

describe("normalizeCallback: signature base (what SMSC signs, before the secret)", () => {
  it.each<[string, Fields, CallbackSource, string | null]>([
    ["status: id:phone:status", samples.status, "main", "48213:79161234567:1"],
    ["HLR: id:phone:status", samples.hlrHome, "main", "48214:79161234567:1"],
    ["HLR failure", samples.hlrUnknown, "main", "48216:79031234567:20"],
    ["ping", { id: "7", phone: PHONE, status: "1", type: "5" }, "main", `7:${PHONE}:1`],
    ["call", { id: "8", phone: PHONE, status: "3", type: "7" }, "main", `8:${PHONE}:3`],
    ["negative status", { id: "9", phone: PHONE, status: "-1" }, "main", `9:${PHONE}:-1`],
    ["the values as sent, not as normalised", { id: "10", phone: "+7 (916) 123-45-67", status: "1" }, "main", "10:+7 (916) 123-45-67:1"],
    ["wait-call: phone:ts", samples.waitcall, "main", "79161234567:1717586000"],
    ["incoming: not signed", samples.incoming, "main", null],
    ["IVR: not signed", samples.ivr, "ivr", null],
    ["IVR with an md5: still not signed", { ...samples.ivr, md5: "x" }, "main", null],
    ["unknown: not signed", { foo: "bar" }, "main", null],
  ])("%s", (_name, fields, source, base) => {
    expect(normalize(fields, source).signatureBase).toBe(base);
  });
});
