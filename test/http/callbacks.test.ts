// The callback receiver's routes (/callbacks/smsc and /callbacks/smsc/ivr): encodings, answers, unusable payloads
// and duplicates, through the real app against a real database (PGlite, or Postgres with DATABASE_URL).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, form, type TestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { rawQueryOf } from "../../src/ingest/routes.js";
import {
  CALLBACK,
  IVR,
  ROUTES,
  bytes,
  callbacksWhere,
  callbacksWithBody,
  cp1251,
  getUrl,
  hex,
  json,
  md5,
  messagesOf,
  multipart,
  nextId,
  nextPhone,
  raw,
  rows,
  statusEventsOf,
  utf8,
} from "../fixtures/callbacks/http.js";

let database: TestDatabase;
let t: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  t = await createTestApp({}, { database });
});

afterAll(async () => {
  await t?.close();
  await database?.drop();
});

/** Another app (other settings) over the same database; closed by the caller. */
async function withApp(env: Record<string, string>, fn: (app: TestApp) => Promise<void>): Promise<void> {
  const app = await createTestApp(env, { database });
  try {
    await fn(app);
  } finally {
    await app.close();
  }
}

/** A delivery status with an extra field SMSC does not document. */
function status(extra: Record<string, string> = {}): Record<string, string> {
  return { id: nextId(), phone: nextPhone(), status: "1", err: "0", ts: "1717585407", x_custom: "kept", ...extra };
}

async function count(sql: string, params: unknown[]): Promise<number> {
  const [row] = await rows<{ n: number }>(t, `SELECT count(*)::int AS n FROM (${sql}) AS q`, params);
  return row!.n;
}

function expectOk(res: { status: number; text: string; headers: Headers }): void {
  expect(res.status).toBe(200);
  expect(res.text).toBe("OK");
  expect(res.headers.get("content-type")).toMatch(/^text\/plain\b/);
}

// -----------------------------------------------------------------------------------------------------------------

describe.each(ROUTES)("%s: encodings (happy path)", (route) => {
  it("GET: takes the fields from the query string", async () => {
    const fields = status();
    const res = await t.request(getUrl(route, fields));
    expectOk(res);
    const [row, ...more] = await callbacksWhere(t, "id", fields.id!);
    expect(more).toEqual([]);
    expect(row).toMatchObject({ method: "GET", route, kind: "status", error: null, account: "default" });
    expect(row!.fields).toEqual(fields);
    expect((await messagesOf(t, fields.id!))[0]).toMatchObject({ phone: fields.phone, status: 1 });
  });

  it("POST application/x-www-form-urlencoded", async () => {
    const fields = status();
    expectOk(await t.request(route, form(fields)));
    const [row] = await callbacksWhere(t, "id", fields.id!);
    expect(row).toMatchObject({ method: "POST", route, kind: "status", error: null, raw_body: null });
    expect(row!.fields).toEqual(fields);
    expect(await messagesOf(t, fields.id!)).toHaveLength(1);
  });

  it("POST multipart/form-data (FormData)", async () => {
    const fields = status();
    const body = new FormData();
    for (const [k, v] of Object.entries(fields)) body.append(k, v);
    expectOk(await t.request(route, { method: "POST", body }));
    const [row] = await callbacksWhere(t, "id", fields.id!);
    expect(row).toMatchObject({ kind: "status", error: null });
    expect(row!.fields).toEqual(fields);
    expect((await messagesOf(t, fields.id!))[0]).toMatchObject({ status: 1 });
  });

  it("POST multipart/form-data built by hand", async () => {
    const fields = status();
    expectOk(await t.request(route, raw(multipart("XbOuNdArY42", fields), "multipart/form-data; boundary=XbOuNdArY42")));
    const [row] = await callbacksWhere(t, "id", fields.id!);
    expect(row!.fields).toEqual(fields);
    expect(await messagesOf(t, fields.id!)).toHaveLength(1);
  });

  it("POST application/json, numbers kept as their text", async () => {
    const id = nextId();
    const phone = nextPhone();
    expectOk(await t.request(route, json({ id, phone, status: 1, err: 0, ts: 1717585407, cost: "3.45", x_custom: "kept" })));
    const [row] = await callbacksWhere(t, "id", id);
    expect(row!.fields).toEqual({ id, phone, status: "1", err: "0", ts: "1717585407", cost: "3.45", x_custom: "kept" });
    expect((await messagesOf(t, id))[0]).toMatchObject({ status: 1, err: 0 });
  });

  it("the body wins over the query string for the same key; query-only keys are kept", async () => {
    const fields = status({ status: "1" });
    const res = await t.request(`${route}?status=0&from_query=yes&err=0`, form(fields));
    expectOk(res);
    const [row] = await callbacksWhere(t, "id", fields.id!);
    expect(row!.fields).toEqual({ ...fields, from_query: "yes" });
    expect((await messagesOf(t, fields.id!))[0]).toMatchObject({ status: 1 });
  });

  it("windows-1251 escapes in a form body: an incoming СТОП", async () => {
    const id = nextId();
    const phone = nextPhone();
    const body = `id=${id}&phone=${phone}&mes=%D1%D2%CE%CF&to=79585550101&ts=1717585920`;
    expectOk(await t.request(route, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body }));
    const [row] = await callbacksWhere(t, "id", id);
    expect(row).toMatchObject({ kind: "incoming", error: null });
    expect(row!.fields.mes).toBe("СТОП");
    const incoming = await rows(t, `SELECT text, phone FROM incoming_messages WHERE smsc_id = $1`, [id]);
    expect(incoming).toEqual([{ text: "СТОП", phone }]);
  });

  it("windows-1251 escapes in the query string (GET)", async () => {
    const id = nextId();
    const phone = nextPhone();
    expectOk(await t.request(`${route}?id=${id}&phone=${phone}&mes=%D1%D2%CE%CF`));
    const incoming = await rows(t, `SELECT text FROM incoming_messages WHERE smsc_id = $1`, [id]);
    expect(incoming).toEqual([{ text: "СТОП" }]);
    expect((await callbacksWhere(t, "id", id))[0]!.fields.mes).toBe("СТОП");
  });

  it("raw windows-1251 bytes in a multipart part", async () => {
    const id = nextId();
    const body = multipart("b0undary", { id, phone: nextPhone(), mes: cp1251("Отписка СТОП"), to: "79585550101" });
    expectOk(await t.request(route, raw(body, "multipart/form-data; boundary=b0undary")));
    expect(await rows(t, `SELECT text FROM incoming_messages WHERE smsc_id = $1`, [id])).toEqual([{ text: "Отписка СТОП" }]);
    expect((await callbacksWhere(t, "id", id))[0]!.fields.mes).toBe("Отписка СТОП");
  });

  it("raw windows-1251 bytes in a JSON body", async () => {
    const id = nextId();
    const body = bytes(`{"id":"${id}","phone":"${nextPhone()}","mes":"`, cp1251("СТОП"), `"}`);
    expectOk(await t.request(route, raw(body, "application/json")));
    expect(await rows(t, `SELECT text FROM incoming_messages WHERE smsc_id = $1`, [id])).toEqual([{ text: "СТОП" }]);
  });

  it("UTF-8 text in a form body and in a JSON body", async () => {
    const a = nextId();
    const b = nextId();
    const text = "Привет, мир ✓ — ok";
    expectOk(await t.request(route, form({ id: a, phone: nextPhone(), mes: text })));
    expectOk(await t.request(route, raw(utf8(JSON.stringify({ id: b, phone: nextPhone(), mes: text })), "application/json; charset=utf-8")));
    const found = await rows(t, `SELECT smsc_id, text FROM incoming_messages WHERE smsc_id IN ($1, $2) ORDER BY smsc_id`, [a, b]);
    expect(found).toEqual([
      { smsc_id: a, text },
      { smsc_id: b, text },
    ]);
  });

  it("a body without a content type is read as a form when it is one", async () => {
    const fields = status();
    expectOk(await t.request(route, raw(utf8(new URLSearchParams(fields).toString()))));
    const [row] = await callbacksWhere(t, "id", fields.id!);
    expect(row).toMatchObject({ kind: "status", error: null });
    expect(row!.fields).toEqual(fields);
    expect(await messagesOf(t, fields.id!)).toHaveLength(1);
  });

  it("a body of an unknown type that is not a form: 200, stored raw as unparseable_body", async () => {
    const body = bytes(new Uint8Array([0x00, 0xff, 0x13, 0x37, 0x0a, 0x01]), nextId());
    expectOk(await t.request(route, raw(body, "application/octet-stream")));
    const found = await callbacksWithBody(t, hex(body));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ error: "unparseable_body", route, method: "POST" });
  });

  it("never stores the token query parameter", async () => {
    const fields = status();
    expectOk(await t.request(`${getUrl(route, fields)}&token=s3cr3t-in-url`));
    const [row] = await callbacksWhere(t, "id", fields.id!);
    expect(row!.fields).toEqual(fields);
    expect(JSON.stringify(row)).not.toContain("s3cr3t-in-url");
  });
});

describe("the query string", () => {
  it.each([
    ["http://h/callbacks/smsc?token=T&status=1", "token=T&status=1"],
    ["http://h/callbacks/smsc?token=T&status=1#frag", "token=T&status=1"],
    ["http://h/callbacks/smsc#?token=T&id=1", ""],
    ["http://h/callbacks/smsc?", ""],
    ["http://h/callbacks/smsc", ""],
    ["http://h/callbacks/smsc?a=1?b=2", "a=1?b=2"],
  ])("%s → %s, as new URL reads it", (url, expected) => {
    expect(rawQueryOf(url)).toBe(expected);
    expect(rawQueryOf(url)).toBe(new URL(url).search.replace(/^\?/, ""));
  });
});

describe("answers", () => {
  it("200 text/plain OK only after commit: the rows are there when the answer arrives", async () => {
    const fields = status();
    const res = await t.request(CALLBACK, form(fields));
    expectOk(res);
    // Read at once, no waiting: the answer promised the commit.
    expect(await callbacksWhere(t, "id", fields.id!)).toHaveLength(1);
    expect(await statusEventsOf(t, fields.id!)).toHaveLength(1);
  });

  it.each(ROUTES)("%s: 413 over CALLBACK_BODY_LIMIT, nothing stored; a body at the limit is taken", async (route) => {
    await withApp({ CALLBACK_BODY_LIMIT: "200" }, async (small) => {
      const over = nextId();
      const res = await small.request(route, form({ id: over, phone: nextPhone(), status: "1", pad: "x".repeat(300) }));
      expect(res.status).toBe(413);
      expect(await callbacksWhere(t, "id", over)).toEqual([]);

      const at = nextId();
      const head = `id=${at}&phone=${nextPhone()}&status=1&pad=`;
      const exact = head + "y".repeat(200 - head.length);
      expect(utf8(exact).length).toBe(200);
      expectOk(await small.request(route, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: exact }));
      expect(await callbacksWhere(t, "id", at)).toHaveLength(1);
    });
  });

  it.each(ROUTES.flatMap((r) => (["PUT", "PATCH", "DELETE"] as const).map((m) => [r, m] as const)))(
    "%s: 405 for %s, with Allow: GET, POST; nothing stored",
    async (route, method) => {
      const fields = status();
      const res = await t.request(route, { method, headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")?.toUpperCase()).toMatch(/GET/);
      expect(res.headers.get("allow")?.toUpperCase()).toMatch(/POST/);
      expect(await callbacksWhere(t, "id", fields.id!)).toEqual([]);
    },
  );

  it("503 with Retry-After while the writer's queue is full; every 200 is stored", async () => {
    await withApp({ WRITER_MAX_QUEUE: "1" }, async (tiny) => {
      const sent = Array.from({ length: 30 }, () => status());
      const answers = await Promise.all(sent.map((f) => tiny.request(getUrl(CALLBACK, f))));
      const refused = answers.filter((a) => a.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      expect(answers.some((a) => a.status === 200)).toBe(true);
      for (const a of refused) expect(Number(a.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
      for (const [i, a] of answers.entries()) {
        if (a.status === 200) expect(await callbacksWhere(t, "id", sent[i]!.id!), `request ${i}`).toHaveLength(1);
      }
    });
  });
});

describe("unusable payloads (errors)", () => {
  async function derivedCount(phone: string): Promise<number> {
    return (
      (await count(`SELECT 1 FROM messages WHERE phone = $1`, [phone])) +
      (await count(`SELECT 1 FROM status_events WHERE phone = $1`, [phone])) +
      (await count(`SELECT 1 FROM hlr_results WHERE phone = $1`, [phone]))
    );
  }

  it.each<[string, (phone: string) => Record<string, string>, string]>([
    ["a status without id", (phone) => ({ phone, status: "1", err: "0", ts: "1717585407" }), "missing_id"],
    ["a non-integer status", (phone) => ({ id: nextId(), phone, status: "delivered", ts: "1717585407" }), "bad_status"],
    ["a fractional status", (phone) => ({ id: nextId(), phone, status: "1.5" }), "bad_status"],
    ["an empty status", (phone) => ({ id: nextId(), phone, status: "" }), "bad_status"],
  ])("%s: 200, stored raw with error %s, no derived rows", async (_name, make, code) => {
    const phone = nextPhone();
    const fields = make(phone);
    expectOk(await t.request(CALLBACK, form(fields)));
    const found = await callbacksWhere(t, "phone", phone);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ kind: "status", error: code });
    expect(found[0]!.fields).toEqual(fields);
    expect(await derivedCount(phone)).toBe(0);
  });

  it("a status without phone: missing_phone, no derived rows", async () => {
    const id = nextId();
    expectOk(await t.request(CALLBACK, form({ id, status: "1", err: "0" })));
    const found = await callbacksWhere(t, "id", id);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ error: "missing_phone" });
    expect(await messagesOf(t, id)).toEqual([]);
    expect(await statusEventsOf(t, id)).toEqual([]);
  });

  it("fields that fit no kind: kind unknown, error unclassified, kept as sent", async () => {
    const ref = nextId();
    const fields = { ref, balance: "12.50", event: "low_balance" };
    expectOk(await t.request(CALLBACK, form(fields)));
    const found = await callbacksWhere(t, "ref", ref);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ kind: "unknown", error: "unclassified" });
    expect(found[0]!.fields).toEqual(fields);
  });

  it("NUL bytes in a form value: 200, fields cleaned, the body kept", async () => {
    const id = nextId();
    const body = `id=${id}&phone=${nextPhone()}&status=1&note=a%00b`;
    expectOk(await t.request(CALLBACK, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body }));
    const [row] = await callbacksWhere(t, "id", id);
    expect(row).toBeDefined();
    expect(row!.fields.note).not.toContain("\u0000");
    expect(row!.fields.note).toMatch(/^a.?b$/);
    expect(row!.raw_body).toBe(hex(utf8(body)));
  });

  it("NUL bytes in a GET query: 200, fields cleaned, the raw query kept without the token", async () => {
    const id = nextId();
    expectOk(await t.request(`${CALLBACK}?id=${id}&phone=${nextPhone()}&status=1&note=a%00b`));
    const [row] = await rows<{ fields: Record<string, string>; raw_query: string }>(t, `SELECT fields, raw_query FROM callbacks WHERE smsc_id = $1`, [id]);
    expect(row!.fields.note).toBe("ab");
    expect(row!.raw_query).toContain("note=a%00b");
  });

  it("fields named like Object.prototype members are kept as ordinary fields", async () => {
    const id = nextId();
    const body = `id=${id}&phone=${nextPhone()}&status=1&__proto__=p&constructor=c&toString=s&hasOwnProperty=h`;
    expectOk(await t.request(CALLBACK, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body }));
    const [row] = await rows<{ fields: string }>(t, `SELECT fields::text AS fields FROM callbacks WHERE smsc_id = $1`, [id]);
    const fields = JSON.parse(row!.fields) as Record<string, string>;
    for (const [k, v] of [["__proto__", "p"], ["constructor", "c"], ["toString", "s"], ["hasOwnProperty", "h"]] as const) {
      expect(Object.hasOwn(fields, k) ? fields[k] : undefined, k).toBe(v);
    }
  });

  it("NUL in a JSON string: 200, fields cleaned, the body kept", async () => {
    const id = nextId();
    const body = utf8(`{"id":"${id}","phone":"${nextPhone()}","mes":"x\\u0000y"}`);
    expectOk(await t.request(CALLBACK, raw(body, "application/json")));
    const [row] = await callbacksWhere(t, "id", id);
    expect(row!.fields.mes).not.toContain("\u0000");
    expect(row!.raw_body).toBe(hex(body));
  });

  it("an invalid JSON body: 200, stored raw with an error", async () => {
    const body = utf8(`{"id":"${nextId()}", broken`);
    expectOk(await t.request(CALLBACK, raw(body, "application/json")));
    const found = await callbacksWithBody(t, hex(body));
    expect(found).toHaveLength(1);
    expect(found[0]!.error).not.toBeNull();
  });
});

describe("duplicates", () => {
  async function callbackCount(where: string, params: unknown[]): Promise<number> {
    return count(`SELECT 1 FROM callbacks WHERE ${where}`, params);
  }

  it("the same status twice: 200 both times, one callback, one status event, counts unchanged", async () => {
    const fields = status();
    expectOk(await t.request(CALLBACK, form(fields)));
    expectOk(await t.request(CALLBACK, form(fields)));
    expect(await callbacksWhere(t, "id", fields.id!)).toHaveLength(1);
    expect(await statusEventsOf(t, fields.id!)).toHaveLength(1);
    expect(await rows(t, `SELECT delivered_count, failed_count FROM numbers WHERE phone = $1`, [fields.phone])).toEqual([
      { delivered_count: 1, failed_count: 0 },
    ]);
  });

  it("20 identical requests at once: all 200, one callback, one status event, one delivery counted", async () => {
    const fields = status();
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.request(CALLBACK, form(fields))));
    for (const a of answers) expectOk(a);
    expect(await callbacksWhere(t, "id", fields.id!)).toHaveLength(1);
    expect(await statusEventsOf(t, fields.id!)).toHaveLength(1);
    expect(await messagesOf(t, fields.id!)).toHaveLength(1);
    expect(await rows(t, `SELECT delivered_count FROM numbers WHERE phone = $1`, [fields.phone])).toEqual([{ delivered_count: 1 }]);
  });

  it("a retry by GET of a status first sent by POST is a duplicate", async () => {
    const fields = status();
    expectOk(await t.request(CALLBACK, form(fields)));
    expectOk(await t.request(getUrl(CALLBACK, fields)));
    expect(await callbacksWhere(t, "id", fields.id!)).toHaveLength(1);
  });

  // Status events: keyed by (id, phone, status, err, ts-or-time).
  it.each<[string, Record<string, string>, Record<string, string>, boolean]>([
    ["other cost and md5", { cost: "1.00", md5: "a".repeat(32) }, { cost: "2.00", md5: "b".repeat(32) }, true],
    ["another unknown field", {}, { x_custom: "changed", extra: "1" }, true],
    ["the same time, no ts", { ts: "", time: "05.06.2024 14:03:27" }, { ts: "", time: "05.06.2024 14:03:27" }, true],
    ["another err", { err: "0" }, { err: "6" }, false],
    ["another status", { status: "0" }, { status: "1" }, false],
    ["another ts", { ts: "1717585407" }, { ts: "1717585408" }, false],
    ["another time, no ts", { ts: "", time: "05.06.2024 14:03:27" }, { ts: "", time: "05.06.2024 14:03:28" }, false],
  ])("status, %s: duplicate = %s", async (_name, a, b, duplicate) => {
    const base = status();
    const clean = (f: Record<string, string>) => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== ""));
    expectOk(await t.request(CALLBACK, form(clean({ ...base, ...a }))));
    expectOk(await t.request(CALLBACK, form(clean({ ...base, ...b }))));
    expect(await callbackCount(`smsc_id = $1`, [base.id])).toBe(duplicate ? 1 : 2);
    expect(await statusEventsOf(t, base.id!)).toHaveLength(duplicate ? 1 : 2);
  });

  it("status: the same phone written another way is the same phone", async () => {
    const fields = status({ phone: "79161239876" });
    expectOk(await t.request(CALLBACK, form(fields)));
    expectOk(await t.request(CALLBACK, form({ ...fields, phone: "+7 (916) 123-98-76" })));
    expect(await callbackCount(`smsc_id = $1`, [fields.id])).toBe(1);
  });

  it("status: another phone with the same id is another message", async () => {
    const fields = status();
    expectOk(await t.request(CALLBACK, form(fields)));
    expectOk(await t.request(CALLBACK, form({ ...fields, phone: nextPhone() })));
    expect(await callbackCount(`smsc_id = $1`, [fields.id])).toBe(2);
    expect(await messagesOf(t, fields.id!)).toHaveLength(2);
  });

  it.each<[string, Record<string, string>, boolean]>([
    ["another md5", { md5: "f".repeat(32) }, true],
    ["another ts", { ts: "1717586001" }, false],
  ])("wait-call (phone, ts), %s: duplicate = %s", async (_name, change, duplicate) => {
    const phone = nextPhone();
    const fields = { waitcall: "1", phone, ts: "1717586000", md5: "0".repeat(32) };
    expectOk(await t.request(CALLBACK, form(fields)));
    expectOk(await t.request(CALLBACK, form({ ...fields, ...change })));
    expect(await callbackCount(`phone = $1`, [phone])).toBe(duplicate ? 1 : 2);
    expect(await count(`SELECT 1 FROM waitcall_events WHERE phone = $1`, [phone])).toBe(duplicate ? 1 : 2);
  });

  it.each<[string, boolean, (p: string, id: string) => [Record<string, string>, Record<string, string>]]>([
    ["same id, other text and time", true, (phone, id) => [{ id, phone, mes: "STOP", ts: "1" }, { id, phone, mes: "STOP!", ts: "2" }]],
    [
      "no id, same from/to/text/time",
      true,
      (phone) => [
        { phone, to: "79585550101", mes: "hi", sent: "05.06.2024 14:12:00", md5: "1".repeat(32) },
        { sent: "05.06.2024 14:12:00", mes: "hi", to: "79585550101", phone },
      ],
    ],
    [
      "no id, other text",
      false,
      (phone) => [
        { phone, to: "79585550101", mes: "hi", sent: "05.06.2024 14:12:00" },
        { phone, to: "79585550101", mes: "ho", sent: "05.06.2024 14:12:00" },
      ],
    ],
    [
      "no id, other time",
      false,
      (phone) => [
        { phone, to: "79585550101", mes: "hi", ts: "1717585920" },
        { phone, to: "79585550101", mes: "hi", ts: "1717585921" },
      ],
    ],
    [
      "no id, other recipient",
      false,
      (phone) => [
        { phone, to: "79585550101", mes: "hi", ts: "1717585920" },
        { phone, to: "79585550102", mes: "hi", ts: "1717585920" },
      ],
    ],
  ])("incoming SMS, %s: duplicate = %s", async (_name, duplicate, make) => {
    const phone = nextPhone();
    const [a, b] = make(phone, nextId());
    expectOk(await t.request(CALLBACK, form(a)));
    expectOk(await t.request(CALLBACK, form(b)));
    expect(await count(`SELECT 1 FROM incoming_messages WHERE phone = $1`, [phone])).toBe(duplicate ? 1 : 2);
    expect(await callbackCount(`phone = $1`, [phone])).toBe(duplicate ? 1 : 2);
  });

  describe.each<[string, string, (ref: string) => Record<string, string>, string]>([
    ["IVR on its route", IVR, (ref) => ({ id: ref, phone: "79161230001", menu: "12", time: "05.06.2024 14:10:02" }), "ivr_events"],
    ["IVR on the main route", CALLBACK, (ref) => ({ id: ref, phone: "79161230002", key: "3" }), "ivr_events"],
    ["unknown", CALLBACK, (ref) => ({ id: ref, what: "balance", amount: "10" }), ""],
  ])("%s: keyed by all its fields, sorted, without md5/sha1", (_name, route, make, table) => {
    async function sendTwice(a: Record<string, string>, b: Record<string, string>): Promise<number> {
      expectOk(await t.request(route, form(a)));
      expectOk(await t.request(route, form(b)));
      const n = await callbackCount(`smsc_id = $1`, [a.id]);
      if (table) expect(await count(`SELECT 1 FROM ${table} WHERE smsc_id = $1`, [a.id])).toBe(n);
      return n;
    }

    it("the same fields with another md5 and sha1: duplicate", async () => {
      const fields = make(nextId());
      expect(await sendTwice({ ...fields, md5: "a".repeat(32) }, { ...fields, md5: "b".repeat(32), sha1: "c".repeat(40) })).toBe(1);
    });

    it("the same fields in another order: duplicate", async () => {
      const fields = make(nextId());
      const reversed = Object.fromEntries(Object.entries(fields).reverse());
      expect(Object.keys(reversed)).not.toEqual(Object.keys(fields));
      expect(await sendTwice(fields, reversed)).toBe(1);
    });

    it("another value: two callbacks", async () => {
      const fields = make(nextId());
      expect(await sendTwice(fields, { ...fields, extra: "1" })).toBe(2);
    });
  });

  it("the same unreadable body twice: one callback; another body: another callback", async () => {
    const body = bytes(new Uint8Array([0xff, 0x00, 0xfe]), nextId());
    const other = bytes(new Uint8Array([0xff, 0x00, 0xfd]), nextId());
    expectOk(await t.request(CALLBACK, raw(body, "application/octet-stream")));
    expectOk(await t.request(CALLBACK, raw(body, "application/octet-stream")));
    expectOk(await t.request(CALLBACK, raw(other, "application/octet-stream")));
    expect(await callbacksWithBody(t, hex(body))).toHaveLength(1);
    expect(await callbacksWithBody(t, hex(other))).toHaveLength(1);
  });
});

describe("security", () => {
  it("a declared Content-Length over the limit is refused before the body is read", async () => {
    await withApp({ CALLBACK_BODY_LIMIT: "100" }, async (small) => {
      const id = nextId();
      const res = await small.request(CALLBACK, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "content-length": "1000000" },
        body: `id=${id}&phone=${nextPhone()}&status=1`,
      });
      expect(res.status).toBe(413);
      expect(await callbacksWhere(t, "id", id)).toEqual([]);
    });
  });

  it("md5 of a signed status is kept in fields (signature material is not a secret)", async () => {
    const fields = status();
    const signed = { ...fields, md5: md5(`${fields.id}:${fields.phone}:${fields.status}:whatever`) };
    expectOk(await t.request(CALLBACK, form(signed)));
    expect((await callbacksWhere(t, "id", fields.id!))[0]!.fields.md5).toBe(signed.md5);
  });
});
