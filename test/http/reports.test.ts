// Number-list hygiene reports over HTTP, against a real database: every input form, the result (CSV and JSON) and its
// actions, the summary, recheck.txt, diffs, the 201/202 split, every bad input (before the answer and after it),
// retention, and keys. Verdict evidence is made the way production makes it: SMSC callbacks to the callback route.
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertHygieneReport } from "../../src/db/queries/hygiene.js";
import { sweepUploads } from "../../src/services/hygiene.js";
import { createTestApp, form, type TestApp, type TestResponse } from "../helpers/app.js";
import { bearer, makeKey } from "../helpers/keys.js";
import { bytes, cp1251, multipart, nextId, nextPhone } from "../fixtures/callbacks/http.js";

const KEY = "test-key-reports-0123456789abcdef";
const auth = bearer(KEY);
const ENV = { API_KEYS: KEY, API_RATE_PER_SEC: "100000", API_RATE_BURST: "100000" };
const HYGIENE = "/v1/reports/hygiene";

let t: TestApp;
const extra: TestApp[] = [];

/** Seeded numbers, one per verdict the tests need. */
const P = {
  reachable: "",
  invalid: "",
  absent: "",
  barred: "",
  optedOut: "",
  unknown: "",
  old: "",
};

const recent = () => String(Math.floor(Date.now() / 1000) - 3600);
/** 2024-06-05: older than any max_age the tests use. */
const LONG_AGO = "1717585200";

async function send(fields: Record<string, string>): Promise<void> {
  const res = await t.request("/callbacks/smsc", form(fields));
  expect([res.status, res.text]).toEqual([200, "OK"]);
}

/** An HLR answer (SMSC type 4, status 1: the HLR answered) with err. */
const hlr = (phone: string, err: number, ts = recent()) =>
  send({ id: nextId(), phone, type: "4", status: "1", err: String(err), mcc: "250", mnc: "01", net: "MTS", cn: "Russian+Federation", ts });

/** "8 916 123-45-67" for 79161234567: how people write it. */
const national = (phone: string) => `8 ${phone.slice(1, 4)} ${phone.slice(4, 7)}-${phone.slice(7, 9)}-${phone.slice(9)}`;

function post(body: string | Uint8Array, contentType: string | null, query = "", app: TestApp = t): Promise<TestResponse> {
  return app.request(`${HYGIENE}${query}`, {
    method: "POST",
    headers: { ...auth, ...(contentType === null ? {} : { "content-type": contentType }) },
    body: body as NonNullable<RequestInit["body"]>,
  });
}

async function created(body: string | Uint8Array, contentType: string, query = "", app: TestApp = t) {
  const res = await post(body, contentType, query, app);
  expect(res.status, res.text).toBe(201);
  const report = res.json();
  expect(res.headers.get("location")).toBe(`/v1/reports/${report.id}`);
  expect(report.status).toBe("done");
  return report;
}

const get = (path: string, headers: Record<string, string> = {}, app: TestApp = t) => app.request(path, { headers: { ...auth, ...headers } });

async function resultOf(id: string, app: TestApp = t) {
  const res = await get(`/v1/reports/${id}/result`, {}, app);
  expect(res.status, res.text).toBe(200);
  return res.json() as { report_id: string; columns: string[]; items: Record<string, any>[] };
}

async function csvOf(id: string, query = "", app: TestApp = t): Promise<{ res: TestResponse; records: string[][] }> {
  const res = await get(`/v1/reports/${id}/result${query}`, { accept: "text/csv" }, app);
  expect(res.status, res.text).toBe(200);
  const delimiter = query.includes("excel=1") ? ";" : ",";
  return { res, records: parse(res.text, { bom: true, delimiter, relax_column_count: true }) };
}

/** Polls a report until it is no longer running (no timing assumptions beyond a generous cap). */
async function settled(id: string, app: TestApp = t) {
  for (let i = 0; i < 1200; i++) {
    const res = await get(`/v1/reports/${id}`, {}, app);
    expect(res.status).toBe(200);
    const report = res.json();
    if (report.status !== "running") return report;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`report ${id} is still running`);
}

async function appWith(env: Record<string, string>): Promise<TestApp> {
  const app = await createTestApp({ ...ENV, ...env }, { database: t.database });
  extra.push(app);
  return app;
}

/** `n` distinct valid Russian mobile numbers, one a line, starting at `from`. */
const manyNumbers = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `7903${String(from + i).padStart(7, "0")}`);

beforeAll(async () => {
  t = await createTestApp(ENV);
  for (const k of Object.keys(P) as (keyof typeof P)[]) P[k] = nextPhone();
  await hlr(P.reachable, 0);
  await hlr(P.invalid, 1);
  await hlr(P.absent, 6);
  await hlr(P.barred, 13);
  await hlr(P.optedOut, 0);
  await send({ id: nextId(), phone: P.optedOut, mes: "STOP", ts: recent() });
  await hlr(P.old, 0, LONG_AGO);
});

afterAll(async () => {
  for (const app of extra) await app.close();
  await t?.close();
});

// -----------------------------------------------------------------------------------------------------------------

describe("POST /v1/reports/hygiene: classifying a list", () => {
  /** The list every classification test reads: one row per case, in this order. */
  const mainList = () =>
    [
      "name,phone,note",
      `Anna,+7 ${P.reachable.slice(1, 4)} ${P.reachable.slice(4)},"reachable, ""best"""`,
      `Boris,${P.invalid},invalid`,
      `Cyril,${P.absent},absent`,
      `Dina,${P.barred},barred`,
      `Egor,${P.optedOut},opted out`,
      `Fedor,${P.unknown},unknown`,
      `Galina,${national(P.reachable)},same number as Anna`,
      `Hugo,12ab,not a number`,
      `Irina,${P.old},old evidence`,
    ].join("\n") + "\n";

  it("answers 201 with Location and the finished report, and classifies every row", async () => {
    const report = await created(mainList(), "text/csv");
    expect(report.input).toMatchObject({ format: "csv", encoding: "utf-8", delimiter: ",", header: true, phone_column: 2, phone_column_name: "phone", columns: ["name", "phone", "note"] });
    expect(report.progress).toMatchObject({ rows_done: 9, total_rows: 9, seconds_left: 0 });
    const { items } = await resultOf(report.id);
    const view = items.map((r) => [r.row, r.e164, r.verdict, r.duplicate_of, r.opted_out, r.action]);
    expect(view).toEqual([
      [1, `+${P.reachable}`, "valid_reachable", null, false, "keep"],
      [2, `+${P.invalid}`, "invalid", null, false, "drop"],
      [3, `+${P.absent}`, "valid_absent", null, false, "keep"],
      [4, `+${P.barred}`, "barred_or_no_sms", null, false, "drop"],
      [5, `+${P.optedOut}`, "valid_reachable", null, true, "drop"],
      [6, `+${P.unknown}`, "unknown", null, false, "recheck"],
      [7, `+${P.reachable}`, "valid_reachable", 1, false, "drop"],
      [8, null, null, null, null, "drop"],
      [9, `+${P.old}`, "valid_reachable", null, false, "keep"],
    ]);
    expect(items[0]).toMatchObject({ reason: "hlr_ok", operator: "MTS", country: "RU", cells: ["Anna", `+7 ${P.reachable.slice(1, 4)} ${P.reachable.slice(4)}`, 'reachable, "best"'] });
    expect(items[0]!.evidence_at).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
    expect(items[1]).toMatchObject({ reason: "hlr_err_1" });
    expect(items[5]).toMatchObject({ reason: "no_evidence", operator: null, evidence_at: null });
    expect(items[7]!.phone_error).toMatch(/^not_a_phone: /);
  });

  it("the CSV result says for every row what the JSON result says", async () => {
    const report = await created(mainList(), "text/csv");
    const { items } = await resultOf(report.id);
    const { records } = await csvOf(report.id);
    const asCsv = (v: unknown) => (v === null ? "" : String(v));
    expect(records.slice(1)).toEqual(
      items.map((r) => [
        ...r.cells,
        ...[r.e164, r.phone_error, r.duplicate_of, r.verdict, r.reason, r.evidence_at, r.operator, r.country, r.roaming, r.opted_out, r.action].map(asCsv),
      ]),
    );
    expect(records.filter((r) => r[8] !== "").length).toBeGreaterThan(3); // evidence_at written on rows that have it
  });

  it("summarises rows per verdict, action, operator and country, with duplicates and malformed rows", async () => {
    const report = await created(mainList(), "text/csv");
    expect(report.summary).toEqual({
      rows: 9,
      numbers: 8,
      unique_numbers: 7,
      duplicates: 1,
      malformed: 1,
      opted_out: 1,
      by_verdict: { valid_reachable: 4, valid_absent: 1, invalid: 1, barred_or_no_sms: 1, unknown: 1 },
      by_action: { keep: 3, drop: 5, recheck: 1 },
      by_operator: [
        { operator: "MTS", rows: 7 },
        { operator: null, rows: 1 },
      ],
      by_country: [{ country: "RU", name: "Russia", rows: 8 }],
    });
    const again = await get(`/v1/reports/${report.id}`);
    expect(again.json()).toMatchObject({ id: report.id, status: "done", summary: report.summary });
  });

  it("max_age: evidence older than it does not count (unknown → recheck)", async () => {
    const report = await created(mainList(), "text/csv", "?max_age=30d");
    expect(report.options).toEqual({ column: null, default_country: "RU", max_age: "30d" });
    const { items } = await resultOf(report.id);
    expect(items[8]).toMatchObject({ verdict: "unknown", reason: "evidence_too_old", action: "recheck" });
    expect(items[0]).toMatchObject({ verdict: "valid_reachable", action: "keep" });
  });

  it("default_country reads national forms of another country", async () => {
    const report = await created("phone\n8 701 123 4567\n", "text/csv", "?default_country=kz");
    const { items } = await resultOf(report.id);
    expect(items[0]).toMatchObject({ e164: "+77011234567", country: "KZ" });
  });
});

describe("POST /v1/reports/hygiene: input forms", () => {
  const phones = () => [P.reachable, P.invalid, P.unknown];
  const e164s = () => phones().map((p) => `+${p}`);
  const firstE164s = async (id: string) => (await resultOf(id)).items.map((r) => r.e164);

  it.each([
    ["phone", ","],
    ["MSISDN", ","],
    ["Телефон", ";"],
    ["номер", ";"],
    ["Tel", "\t"],
    ["Phone Number", ";"],
    ["mobile", "\t"],
  ])("CSV with header %j and delimiter %j", async (header, d) => {
    const text = [`name${d}${header}${d}city`, ...phones().map((p, i) => `n${i}${d}${p}${d}c${i}`)].join("\r\n");
    const report = await created(text, "text/csv");
    expect(report.input).toMatchObject({ delimiter: d, header: true, phone_column: 2, phone_column_name: header, columns: ["name", header, "city"] });
    expect(await firstE164s(report.id)).toEqual(e164s());
  });

  it("CSV without a header: the column that looks like phones", async () => {
    const report = await created(phones().map((p, i) => `Name ${i};${p};${i}`).join("\n"), "text/csv");
    expect(report.input).toMatchObject({ delimiter: ";", header: false, phone_column: 2, columns: ["column_1", "column_2", "column_3"] });
    expect(await firstE164s(report.id)).toEqual(e164s());
  });

  it("column by name and by 1-based index", async () => {
    const text = ["home,mobile", ...phones().map((p) => `74951234567,${p}`)].join("\n");
    const byName = await created(text, "text/csv", "?column=MOBILE");
    expect(byName.input).toMatchObject({ phone_column: 2, header: true });
    expect(byName.options.column).toBe("MOBILE");
    expect(await firstE164s(byName.id)).toEqual(e164s());
    const byIndex = await created(text, "text/csv", "?column=2");
    expect(byIndex.input).toMatchObject({ phone_column: 2, header: true });
    expect(await firstE164s(byIndex.id)).toEqual(e164s());
    // Without `column`, the first phone-like column (home) would have been taken.
    const guessed = await created(text, "text/csv");
    expect(guessed.input).toMatchObject({ phone_column: 2 });
  });

  it("windows-1251", async () => {
    const body = cp1251(["Имя;Телефон", ...phones().map((p, i) => `Пётр ${i};${p}`)].join("\r\n") + "\r\n");
    const report = await created(body, "text/csv; charset=windows-1251");
    expect(report.input).toMatchObject({ encoding: "windows-1251", delimiter: ";", columns: ["Имя", "Телефон"] });
    const { items } = await resultOf(report.id);
    expect(items.map((r) => r.cells[0])).toEqual(["Пётр 0", "Пётр 1", "Пётр 2"]);
    expect(items.map((r) => r.e164)).toEqual(e164s());
  });

  it("UTF-8 with a BOM", async () => {
    const body = bytes(new Uint8Array([0xef, 0xbb, 0xbf]), ["Телефон;Имя", ...phones().map((p) => `${p};Анна`)].join("\n"));
    const report = await created(body, "text/csv");
    expect(report.input).toMatchObject({ encoding: "utf-8-bom", header: true, phone_column: 1, columns: ["Телефон", "Имя"] });
    expect(await firstE164s(report.id)).toEqual(e164s());
  });

  it("text/plain, one number a line (blank lines are not rows)", async () => {
    const report = await created(`${P.reachable}\n\n+7 (${P.invalid.slice(1, 4)}) ${P.invalid.slice(4)}\r\n  \n${national(P.unknown)}\n`, "text/plain");
    expect(report.input).toMatchObject({ format: "text", delimiter: null, header: false, columns: ["phone"] });
    const { items } = await resultOf(report.id);
    expect(items.map((r) => [r.row, r.e164])).toEqual(e164s().map((e, i) => [i + 1, e]));
    expect(items[1]!.cells).toEqual([`+7 (${P.invalid.slice(1, 4)}) ${P.invalid.slice(4)}`]);
  });

  it("application/json: an array of strings", async () => {
    const report = await created(JSON.stringify([P.reachable, `+${P.invalid}`, national(P.unknown)]), "application/json");
    expect(report.input).toMatchObject({ format: "json", header: false, columns: ["phone"] });
    expect(await firstE164s(report.id)).toEqual(e164s());
  });

  it("multipart/form-data, the `file` field (CSV; other fields are ignored)", async () => {
    const boundary = "----hygiene-test-boundary";
    const body = multipart(boundary, { note: "not the list", file: ["phone,name", ...phones().map((p) => `${p},x`)].join("\n") });
    const report = await created(body, `multipart/form-data; boundary=${boundary}`);
    expect(report.input).toMatchObject({ format: "csv", header: true, phone_column: 1, file: { filename: null, content_type: null } });
    expect(await firstE164s(report.id)).toEqual(e164s());
  });

  it("multipart/form-data with a JSON or text file: its type or file name says the format", async () => {
    const boundary = "b0undary";
    const part = (name: string, type: string, content: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n${content}\r\n--${boundary}--\r\n`;
    const json = await created(part("list.json", "application/octet-stream", JSON.stringify(phones())), `multipart/form-data; boundary=${boundary}`);
    expect(json.input).toMatchObject({ format: "json", file: { filename: "list.json", content_type: "application/octet-stream" } });
    expect(await firstE164s(json.id)).toEqual(e164s());
    const text = await created(part("list.txt", "text/plain", phones().join("\n")), `multipart/form-data; boundary="${boundary}"`);
    expect(text.input).toMatchObject({ format: "text" });
    expect(await firstE164s(text.id)).toEqual(e164s());
  });
});

describe("GET /v1/reports/{id}/result", () => {
  const upload = [
    ["Name", "Phone", "Comment", "Empty"],
    ["Smith, Anna", "+7 916 000-00-01", 'says "hi"', ""],
    ["Борис", "89160000002", "line one\nline two", ""],
    ["  spaced  ", "79160000003", "", "x"],
    ["Anna again", "79160000001", "dup", ""],
    ["No number", "", "missing", ""],
  ];
  const text = upload.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(",")).join("\r\n") + "\r\n";

  it("CSV: every uploaded row, in order, with its columns as they were, then the result columns", async () => {
    const report = await created(text, "text/csv");
    const { res, records } = await csvOf(report.id);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    const result = report.input.result_columns;
    expect(result).toEqual(["e164", "phone_error", "duplicate_of", "verdict", "reason", "evidence_at", "operator", "country", "roaming", "opted_out", "action"]);
    expect(records[0]).toEqual([...upload[0]!, ...result]);
    expect(records.slice(1).map((r) => r.slice(0, 4))).toEqual(upload.slice(1));
    expect(records.slice(1).map((r) => r.length)).toEqual(upload.slice(1).map(() => 15));
    const col = (name: string) => records[0]!.indexOf(name);
    expect(records.slice(1).map((r) => [r[col("e164")], r[col("duplicate_of")], r[col("action")]])).toEqual([
      ["+79160000001", "", "recheck"],
      ["+79160000002", "", "recheck"],
      ["+79160000003", "", "recheck"],
      ["+79160000001", "1", "drop"],
      ["", "", "drop"],
    ]);
    expect(records[5]![col("phone_error")]).toMatch(/^empty_phone: /);
  });

  it("JSON by Accept: the cells as uploaded, in order", async () => {
    const report = await created(text, "text/csv");
    const json = await resultOf(report.id);
    expect(json.columns).toEqual(upload[0]);
    expect(json.items.map((r) => r.cells)).toEqual(upload.slice(1));
    expect(json.items.map((r) => r.row)).toEqual([1, 2, 3, 4, 5]);
  });

  it("a result column whose name the upload has gets the prefix hygiene_", async () => {
    const report = await created(`phone,Verdict,country,action\n${P.reachable},mine,Moscow,call\n`, "text/csv");
    const { records } = await csvOf(report.id);
    expect(records[0]).toEqual([
      "phone", "Verdict", "country", "action",
      "e164", "phone_error", "duplicate_of", "hygiene_verdict", "reason", "evidence_at", "operator", "hygiene_country", "roaming", "opted_out", "hygiene_action",
    ]);
    expect(records[1]!.slice(0, 4)).toEqual([P.reachable, "mine", "Moscow", "call"]);
    expect(records[1]![records[0]!.indexOf("hygiene_action")]).toBe("keep");
  });

  it("?excel=1: UTF-8 with BOM and ; as the delimiter", async () => {
    const report = await created(text, "text/csv");
    const res = await t.app.request(`/v1/reports/${report.id}/result?excel=1`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    const body = Buffer.from(await res.arrayBuffer());
    expect([...body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const csv = body.subarray(3).toString("utf8");
    expect(csv.startsWith("Name;Phone;Comment;Empty;e164;")).toBe(true);
    const records: string[][] = parse(csv, { delimiter: ";" });
    expect(records.slice(1).map((r) => r.slice(0, 4))).toEqual(upload.slice(1));
  });

  it("rows with more cells than the header get columns of their own; a cell a spreadsheet would run is neutralised", async () => {
    const report = await created(`phone,name\n${P.reachable},=HYPERLINK("x"),extra\n${P.unknown},B\n`, "text/csv");
    const got = await get(`/v1/reports/${report.id}`);
    expect(got.json().input.columns).toEqual(["phone", "name", "column_3"]);
    const { records } = await csvOf(report.id);
    expect(records[1]!.slice(0, 3)).toEqual([P.reachable, `'=HYPERLINK("x")`, "extra"]);
    expect(records[2]!.slice(0, 3)).toEqual([P.unknown, "B", ""]);
    const json = await resultOf(report.id);
    expect(json.items[0]!.cells).toEqual([P.reachable, '=HYPERLINK("x")', "extra"]);
  });

  it("404 for an unknown report", async () => {
    const res = await get("/v1/reports/rep_nope/result");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("GET /v1/reports/{id}/recheck.txt", () => {
  it("the numbers to check, digits only, batch_size per line (default 100)", async () => {
    const numbers = manyNumbers(250, 1000);
    const report = await created(["phone", ...numbers, P.reachable, numbers[0]!].join("\n"), "text/csv");
    const res = await get(`/v1/reports/${report.id}/recheck.txt`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const lines = res.text.trimEnd().split("\n");
    expect(lines.map((l) => l.split(",").length)).toEqual([100, 100, 50]);
    expect(lines.join(",").split(",")).toEqual(numbers);
    const small = await get(`/v1/reports/${report.id}/recheck.txt?batch_size=120`);
    expect(small.text.trimEnd().split("\n").map((l) => l.split(",").length)).toEqual([120, 120, 10]);
    expect((await get(`/v1/reports/${report.id}/recheck.txt?batch_size=0`)).status).toBe(400);
  });

  it("empty when nothing needs a check", async () => {
    const report = await created(`phone\n${P.reachable}\n`, "text/csv");
    const res = await get(`/v1/reports/${report.id}/recheck.txt`);
    expect([res.status, res.text]).toEqual([200, ""]);
  });
});

describe("GET /v1/reports/{id}/diff", () => {
  it("the numbers whose verdict or action changed, as JSON and CSV", async () => {
    const changing = nextPhone();
    const steady = nextPhone();
    const list = `phone\n${changing}\n${steady}\n${P.invalid}\n`;
    const before = await created(list, "text/csv");
    await hlr(changing, 0);
    const after = await created(list, "text/csv");
    const json = await get(`/v1/reports/${after.id}/diff?against=${before.id}`);
    expect(json.status).toBe(200);
    expect(json.json()).toEqual({
      report_id: after.id,
      against: before.id,
      items: [{ e164: `+${changing}`, old_verdict: "unknown", new_verdict: "valid_reachable", old_action: "recheck", new_action: "keep" }],
    });
    const csv = await get(`/v1/reports/${after.id}/diff?against=${before.id}`, { accept: "text/csv" });
    expect(csv.text).toBe(`e164,old_verdict,new_verdict,old_action,new_action\n+${changing},unknown,valid_reachable,recheck,keep\n`);
    const none = await get(`/v1/reports/${after.id}/diff?against=${after.id}`);
    expect(none.json().items).toEqual([]);
  });

  it("404 when either report is unknown; 400 without `against`", async () => {
    const report = await created(`phone\n${P.reachable}\n`, "text/csv");
    const missing = await get(`/v1/reports/${report.id}/diff?against=rep_missing`);
    expect(missing.status).toBe(404);
    expect(missing.json().errors).toEqual([{ field: "against", message: "no such report" }]);
    expect((await get(`/v1/reports/${report.id}/diff`)).status).toBe(400);
  });
});

describe("the 201/202 split", () => {
  it("10,000 rows: 201, finished", async () => {
    const report = await created(["phone", ...manyNumbers(10_000)].join("\n"), "text/csv");
    expect(report.progress).toMatchObject({ rows_done: 10_000, total_rows: 10_000 });
    expect(report.summary).toMatchObject({ rows: 10_000, by_action: { recheck: 10_000 } });
  });

  it("more: 202 with Location and status running, classified in the background; GET shows progress until done", async () => {
    const numbers = manyNumbers(10_500, 20_000);
    // Two numbers past the first pages of rows change between an earlier report and this one (recheck.txt and diff).
    const earlier = await created(`phone\n${numbers[7000]}\n${numbers[10_400]}\n`, "text/csv");
    await hlr(numbers[7000]!, 0);
    await hlr(numbers[10_400]!, 0);
    const res = await post(["phone", ...numbers, numbers[0]].join("\n"), "text/csv");
    expect(res.status, res.text).toBe(202);
    const running = res.json();
    expect(running).toMatchObject({ status: "running", summary: null, progress: { total_rows: null } });
    expect(res.headers.get("location")).toBe(`/v1/reports/${running.id}`);
    const done = await settled(running.id);
    expect(done).toMatchObject({ status: "done", failure: null, progress: { rows_done: 10_501, total_rows: 10_501, seconds_left: 0 } });
    expect(done.progress.rows_per_second).toBeGreaterThan(0);
    expect(done.summary).toMatchObject({ rows: 10_501, duplicates: 1, by_action: { recheck: 10_498, keep: 2, drop: 1 } });
    const { records } = await csvOf(running.id);
    expect(records).toHaveLength(10_502);
    expect(records[10_501]!.slice(0, 4)).toEqual([numbers[0], `+${numbers[0]}`, "", "1"]);
    expect(records.slice(1).map((r) => r[0])).toEqual([...numbers, numbers[0]]);
    const recheck = await get(`/v1/reports/${running.id}/recheck.txt?batch_size=1000`);
    expect(recheck.text.trimEnd().split("\n").join(",").split(",")).toEqual(numbers.filter((_, i) => i !== 7000 && i !== 10_400));
    const diff = await get(`/v1/reports/${running.id}/diff?against=${earlier.id}`);
    expect(diff.json().items.map((c: { e164: string }) => c.e164)).toEqual([`+${numbers[7000]}`, `+${numbers[10_400]}`]);
  });
});

describe("bad input", () => {
  async function problemOf(res: TestResponse, status: number, code: string, field: string) {
    expect(res.status, res.text).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const p = res.json();
    expect(p.type).toBe(`https://smsc-hub.dev/problems/${code.replaceAll("_", "-")}`);
    expect(p.detail).toMatch(new RegExp(`^${code}: `));
    expect(p.errors).toEqual([{ field, message: expect.any(String) }]);
    return p;
  }

  it.each([
    ["an empty body", "", "text/csv"],
    ["only blank lines", "\n\n  \n", "text/plain"],
    ["a header and no rows", "name,phone\n", "text/csv"],
    ["an empty JSON array", "[]", "application/json"],
  ])("%s → 422 empty_body", async (_name, body, type) => {
    await problemOf(await post(body, type), 422, "empty_body", "body");
  });

  it("no phone-like column → 422 no_phone_column", async () => {
    const p = await problemOf(await post("name,city\nAnna,Moscow\nBoris,Tver\n", "text/csv"), 422, "no_phone_column", "column");
    expect(p.detail).toContain("?column=");
  });

  it("a column that does not exist → 422 unknown_column", async () => {
    await problemOf(await post(`name,phone\nA,${P.reachable}\n`, "text/csv", "?column=mobile"), 422, "unknown_column", "column");
    await problemOf(await post(`name,phone\nA,${P.reachable}\n`, "text/csv", "?column=5"), 422, "unknown_column", "column");
  });

  it.each([
    ["UTF-16 with a BOM", bytes(new Uint8Array([0xff, 0xfe]), new Uint8Array([0x37, 0, 0x39, 0, 0x0a, 0]))],
    ["UTF-16 without a BOM", new Uint8Array([0x37, 0, 0x39, 0, 0x31, 0, 0x0a, 0])],
    ["binary with NUL bytes", new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00])],
  ])("%s → 415 bad_encoding", async (_name, body) => {
    await problemOf(await post(body, "text/csv"), 415, "bad_encoding", "body");
  });

  it("more than HYGIENE_MAX_ROWS rows, found before the answer → 413 too_many_rows", async () => {
    const small = await appWith({ HYGIENE_MAX_ROWS: "5" });
    const p = await problemOf(await post(manyNumbers(6).join("\n"), "text/plain", "", small), 413, "too_many_rows", "body");
    expect(p.detail).toContain("HYGIENE_MAX_ROWS");
    expect((await post(manyNumbers(5).join("\n"), "text/plain", "", small)).status).toBe(201);
  });

  it("more than HYGIENE_MAX_ROWS rows, found after the 202 → the report fails with the reason", async () => {
    const limited = await appWith({ HYGIENE_MAX_ROWS: "10200" });
    const res = await post(manyNumbers(10_500, 40_000).join("\n"), "text/plain", "", limited);
    expect(res.status, res.text).toBe(202);
    const failed = await settled(res.json().id, limited);
    expect(failed).toMatchObject({ status: "failed", failure: { code: "too_many_rows", message: expect.stringContaining("10200") }, summary: null });
    expect(failed.finished_at).not.toBeNull();
    const result = await get(`/v1/reports/${failed.id}/result`, {}, limited);
    expect(result.status).toBe(409);
    expect(result.json().detail).toContain("too_many_rows");
    const [left] = await t.database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM hygiene_rows WHERE report_id = $1", [failed.id]);
    expect(left!.n).toBe(0);
  });

  it("binary found after the 202 (past the first 64 KiB) → the report fails with bad_encoding", async () => {
    const lines = manyNumbers(10_500, 60_000);
    lines[10_400] = "7903\u00000000000";
    const res = await post(lines.join("\n"), "text/plain");
    expect(res.status, res.text).toBe(202);
    expect(await settled(res.json().id)).toMatchObject({ status: "failed", failure: { code: "bad_encoding" } });
  });

  it.each([
    ["not an array", '{"numbers": ["79161234567"]}'],
    ["an object inside", '["79161234567", {"phone": "79161234568"}]'],
    ["not closed", '["79161234567", "79161234568"'],
  ])("JSON %s → 422 bad_json", async (_name, body) => {
    await problemOf(await post(body, "application/json"), 422, "bad_json", "body");
  });

  it("multipart without a `file` part → 422 no_file_part; without a boundary → 422 bad_multipart", async () => {
    await problemOf(await post(multipart("bnd", { list: "79161234567" }), "multipart/form-data; boundary=bnd"), 422, "no_file_part", "file");
    await problemOf(await post("x", "multipart/form-data"), 422, "bad_multipart", "body");
  });

  it("a media type the route does not take → 415", async () => {
    const res = await post("<numbers/>", "application/xml");
    expect(res.status).toBe(415);
    expect(res.json().errors).toEqual([{ field: "content-type", message: expect.stringContaining("application/xml") }]);
    const none = await post(bytes("79161234567"), null);
    expect(none.status).toBe(415);
  });

  it("bad options → 400 naming the field", async () => {
    for (const [query, field] of [
      ["?max_age=30", "max_age"],
      ["?default_country=XX", "default_country"],
      ["?column=", "column"],
    ]) {
      const res = await post(`phone\n${P.reachable}\n`, "text/csv", query);
      expect(res.status, query).toBe(400);
      expect(res.json().errors.map((e: { field: string }) => e.field)).toEqual([field]);
    }
  });

  it("a malformed row never aborts a report: it gets its own phone_error", async () => {
    const report = await created(`phone,name\n${P.reachable},a\n"unclosed,b\n`, "text/csv");
    expect(report.summary).toMatchObject({ rows: 2, malformed: 1 });
    const { items } = await resultOf(report.id);
    expect(items[0]).toMatchObject({ e164: `+${P.reachable}`, action: "keep" });
    expect(items[1]).toMatchObject({ phone_error: expect.stringMatching(/^bad_row: /), action: "drop" });
    const mixed = await created(`phone\n${P.reachable}\n+7 916 x\n123\n\n${P.unknown}\n`, "text/csv");
    expect(mixed.summary).toMatchObject({ rows: 4, malformed: 2, by_action: { keep: 1, recheck: 1, drop: 2 } });
    // JSON escapes that text cannot hold: NUL, a lone surrogate.
    const json = await created(`["${P.reachable}", "79\\u00001", "\\ud800", 7]`, "application/json");
    const rows = (await resultOf(json.id)).items;
    expect(rows.map((r) => [r.action, (r.phone_error ?? "").split(":")[0]])).toEqual([
      ["keep", ""],
      ["drop", "bad_row"],
      ["drop", "not_a_phone"],
      ["drop", "not_a_phone"],
    ]);
    expect(rows[2]!.cells).toEqual(["\ufffd"]);
  });
});

describe("retention and interrupted reports", () => {
  it("the sweep removes expired reports with their rows, and fails reports left running", async () => {
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000);
    const old = await appWith({});
    const report = await created(`phone\n${P.reachable}\n`, "text/csv", "", old);
    await t.database.db.query("UPDATE hygiene_reports SET expires_at = $2 WHERE id = $1", [report.id, new Date(Date.now() - 1000)]);
    const options = { column: null, defaultCountry: "RU", maxAge: null };
    await insertHygieneReport(t.database.db, { id: "rep_left_running", options, input: null, createdAt: eightDaysAgo, expiresAt: new Date(Date.now() + 86_400_000) });
    const swept = await sweepUploads(t.database.db, new Date());
    expect(swept.interrupted).toContain("rep_left_running");
    expect(swept.expired).toBeGreaterThanOrEqual(1);
    expect((await get(`/v1/reports/${report.id}`)).status).toBe(404);
    const [rows] = await t.database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM hygiene_rows WHERE report_id = $1", [report.id]);
    expect(rows!.n).toBe(0);
    const left = await get("/v1/reports/rep_left_running");
    expect(left.json()).toMatchObject({ status: "failed", failure: { code: "interrupted" } });
  });

  it("a report expires REPORT_RETENTION_DAYS after it was made", async () => {
    const short = await appWith({ REPORT_RETENTION_DAYS: "2" });
    const report = await created(`phone\n${P.reachable}\n`, "text/csv", "", short);
    expect(new Date(report.expires_at).getTime() - new Date(report.created_at).getTime()).toBe(2 * 86_400_000);
  });
});

describe("keys and scopes", () => {
  /** The report routes, for a report and a report to diff it against. */
  const routes = (id: string): [string, RequestInit][] => [
    [`/v1/reports/${id}`, {}],
    [`/v1/reports/${id}/result`, {}],
    [`/v1/reports/${id}/recheck.txt`, {}],
    [`/v1/reports/${id}/diff?against=${id}`, {}],
  ];
  const as = (key: string, [path, init]: [string, RequestInit]) =>
    t.request(path, { ...init, headers: { ...(init.headers as Record<string, string>), ...bearer(key) } });

  it("every route needs a key (401 without, or with a wrong one); a read key may use them all on its own reports", async () => {
    const { key } = await makeKey(t.database.db, "read");
    const upload: [string, RequestInit] = [HYGIENE, { method: "POST", headers: { "content-type": "text/csv" }, body: `phone\n${P.reachable}\n` }];
    const made = await as(key, upload);
    expect(made.status).toBe(201);
    for (const [path, init] of [upload, ...routes(made.json().id)]) {
      const none = await t.request(path, init);
      expect(none.status, path).toBe(401);
      const wrong = await t.request(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: "Bearer nope" } });
      expect(wrong.status, path).toBe(401);
      const read = await as(key, [path, init]);
      expect([200, 201], path).toContain(read.status);
    }
  });

  it("a report is read by the key that uploaded the list and by admins; to another key it does not exist (404)", async () => {
    const { key: owner } = await makeKey(t.database.db, "read");
    const { key: other } = await makeKey(t.database.db, "write");
    const { key: admin } = await makeKey(t.database.db, "admin");
    const made = await as(owner, [HYGIENE, { method: "POST", headers: { "content-type": "text/csv" }, body: `phone\n${P.reachable}\n` }]);
    expect(made.status).toBe(201);
    const id: string = made.json().id;
    for (const route of routes(id)) {
      expect((await as(owner, route)).status, route[0]).toBe(200);
      expect((await as(admin, route)).status, route[0]).toBe(200);
      const denied = await as(other, route);
      expect(denied.status, route[0]).toBe(404);
      expect(denied.headers.get("content-type")).toContain("application/problem+json");
    }
    // Nor can another key's report be the other side of a diff.
    const mine = (await as(other, [HYGIENE, { method: "POST", headers: { "content-type": "text/csv" }, body: `phone\n${P.reachable}\n` }])).json().id;
    const diff = await as(other, [`/v1/reports/${mine}/diff?against=${id}`, {}]);
    expect(diff.status).toBe(404);
    expect(diff.json().errors).toEqual([{ field: "against", message: "no such report" }]);
    // An admin's report (API_KEYS) is not readable by a read key either.
    const adminReport = await created(`phone\n${P.reachable}\n`, "text/csv");
    expect((await as(owner, [`/v1/reports/${adminReport.id}`, {}])).status).toBe(404);
  });
});
