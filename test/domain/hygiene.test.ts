// The pure parts of hygiene reports: encoding, delimiter, header and phone-column detection, the CSV, JSON and
// multipart readers (fed in pieces of every size), actions, result column names, progress and the summary.
import { describe, expect, it } from "vitest";
import {
  CsvRecordReader,
  decideAction,
  detectDelimiter,
  detectLayout,
  JsonStringArrayReader,
  looksLikePhone,
  multipartBoundary,
  MultipartFileExtractor,
  parseColumnOption,
  phoneHeaderRank,
  progressOf,
  resultColumnNames,
  sniffEncoding,
  SummaryCounter,
} from "../../src/domain/hygiene.js";
import { VERDICTS } from "../../src/domain/verdict.js";
import { bytes, cp1251, multipart } from "../fixtures/callbacks/http.js";
import { LAYOUT_CASES } from "../fixtures/hygiene/layouts.js";

/** Reads a whole CSV text with the reader, line by line. */
function readCsv(text: string, delimiter: string) {
  const reader = new CsvRecordReader(delimiter);
  const out = [];
  for (const line of text.split("\n")) {
    const r = reader.push(line.replace(/\r$/, ""));
    if (r) out.push(r);
  }
  const last = reader.end();
  if (last) out.push(last);
  return out;
}

/** Splits text (or bytes) into pieces of `size`. */
function pieces<T extends string | Uint8Array>(all: T, size: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size) as T);
  return out;
}

describe("sniffEncoding", () => {
  it.each([
    ["UTF-8", bytes("name;Телефон\n"), "utf-8"],
    ["UTF-8 with BOM", bytes(new Uint8Array([0xef, 0xbb, 0xbf]), "phone\n"), "utf-8-bom"],
    ["plain ASCII", bytes("79161234567\n"), "utf-8"],
    ["windows-1251", cp1251("Имя;Телефон\n"), "windows-1251"],
    ["UTF-8 cut in the middle of a character at the end of the sample", bytes("Телефон").subarray(0, 3), "utf-8"],
  ])("%s → %s", (_name, sample, encoding) => {
    expect(sniffEncoding(sample)).toEqual({ ok: true, value: encoding });
  });

  it.each([
    ["UTF-16 LE with BOM", new Uint8Array([0xff, 0xfe, 0x37, 0x00, 0x39, 0x00])],
    ["UTF-16 BE with BOM", new Uint8Array([0xfe, 0xff, 0x00, 0x37])],
    ["UTF-16 without BOM (NUL bytes)", new Uint8Array([0x37, 0x00, 0x39, 0x00, 0x0a, 0x00])],
    ["binary with control bytes", new Uint8Array(Array.from({ length: 400 }, (_, i) => (i % 7 === 0 ? 1 : 65 + (i % 20))))],
  ])("%s → bad_encoding", (_name, sample) => {
    const r = sniffEncoding(sample);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe("bad_encoding");
  });
});

describe("detectDelimiter", () => {
  it.each([
    ["a,b,c\n1,2,3", ","],
    ["a;b;c\n1;2;3", ";"],
    ["a\tb\n1\t2", "\t"],
    ["Smith, Anna;79161234567\nJones, Boris;79161234568", ";"],
    ['"a;b",c\n"d;e",f', ","],
    ["79161234567\n79161234568", null],
    ["", null],
  ])("%j → %j", (text, d) => {
    expect(detectDelimiter(text.split("\n"))).toBe(d);
  });
});

describe("CsvRecordReader", () => {
  it("reads quoted fields: delimiters, doubled quotes and line breaks inside", () => {
    expect(readCsv('a,"b, c","say ""hi"""\n"multi\nline",x,\n', ",").map((r) => r.cells)).toEqual([
      ["a", "b, c", 'say "hi"'],
      ["multi\nline", "x", ""],
      [""],
    ]);
  });

  it("is lenient: a quote inside an unquoted field is a character", () => {
    expect(readCsv('5" disk,79161234567', ",")[0]).toEqual({ cells: ['5" disk', "79161234567"], error: null });
  });

  it("gives back a record whose quote is never closed with an error, and reads on", () => {
    const reader = new CsvRecordReader(",");
    expect(reader.push('"open,79161234567')).toBeNull();
    expect(reader.end()).toMatchObject({ error: expect.stringContaining("not closed") });
    const long = new CsvRecordReader(",");
    expect(long.push('"x')).toBeNull();
    let got = null;
    for (let i = 0; i < 2000 && !got; i++) got = long.push("y".repeat(100));
    expect(got).toMatchObject({ error: expect.stringContaining("not closed within") });
    expect(long.push("a,79161234567")).toEqual({ cells: ["a", "79161234567"], error: null });
  });
});

describe("phone headers and values", () => {
  it.each([
    ["phone", 2],
    ["Phone Number", 2],
    ["MSISDN", 2],
    ["Телефон", 2],
    ["номер", 2],
    ["Моб. телефон", 2],
    ["tel.", 2],
    ["work_phone", 1],
    ["Телефон клиента", 1],
    ["name", 0],
    ["", 0],
  ] as const)("header %j ranks %i", (name, rank) => {
    expect(phoneHeaderRank(name)).toBe(rank);
  });

  it.each([
    ["79161234567", true],
    ["+7 (916) 123-45-67", true],
    ["8 916 123 45 67", true],
    ["+3765123456", true],
    ["0079161234567", true],
    ["1234567", false],
    ["12345", false],
    ["Anna", false],
    ["2024-06-05", false],
    ["", false],
  ])("%j looks like a phone: %s", (value, expected) => {
    expect(looksLikePhone(value)).toBe(expected);
  });

  it("reads the column option as an index when it is all digits", () => {
    expect(parseColumnOption("2")).toEqual({ index: 2 });
    expect(parseColumnOption(" Phone ")).toEqual({ name: "Phone" });
  });
});

describe("detectLayout", () => {
  it.each(LAYOUT_CASES)("$name", (c) => {
    const delimiter = detectDelimiter(c.text.split("\n"));
    expect(delimiter).toBe(c.delimiter);
    const records = readCsv(c.text, delimiter ?? ",").map((r) => r.cells).filter((r) => r.some((x) => x !== ""));
    const layout = detectLayout(records, c.column === undefined ? null : parseColumnOption(c.column));
    expect(layout).toEqual({ ok: true, value: { header: c.header, phoneColumn: c.phoneColumn - 1, columns: c.columns } });
  });

  it.each([
    ["no phone-like column", [["a", "b"], ["c", "d"]], null, "no_phone_column"],
    ["a column name that is not in the header", [["name", "phone"], ["A", "79161234567"]], { name: "mobile" }, "unknown_column"],
    ["a column index past the last column", [["A", "79161234567"]], { index: 3 }, "unknown_column"],
    ["no rows", [], null, "empty_body"],
  ] as const)("%s → %s", (_name, records, column, code) => {
    const r = detectLayout(records as unknown as string[][], column);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(code);
  });

  it("a one-column list is phones if any value looks like one; text lists have a header only by name; JSON never", () => {
    expect(detectLayout([["garbage"], ["79161234567"]], null, { header: "by-name" })).toMatchObject({ ok: true, value: { header: false } });
    expect(detectLayout([["Телефон"], ["79161234567"]], null, { header: "by-name" })).toMatchObject({ ok: true, value: { header: true, columns: ["Телефон"] } });
    expect(detectLayout([["phone"], ["79161234567"]], null, { header: "none" })).toMatchObject({ ok: true, value: { header: false, columns: ["phone"] } });
    expect(detectLayout([["79161234567"], ["x"]], null, { header: "none" })).toMatchObject({ ok: true });
  });
});

describe("decideAction", () => {
  it.each([
    [{ phoneError: "not_a_phone: x", duplicateOf: null, verdict: null, optedOut: false }, "drop"],
    [{ phoneError: null, duplicateOf: 3, verdict: "valid_reachable", optedOut: false }, "drop"],
    [{ phoneError: null, duplicateOf: null, verdict: "invalid", optedOut: false }, "drop"],
    [{ phoneError: null, duplicateOf: null, verdict: "barred_or_no_sms", optedOut: false }, "drop"],
    [{ phoneError: null, duplicateOf: null, verdict: "valid_reachable", optedOut: true }, "drop"],
    [{ phoneError: null, duplicateOf: null, verdict: "unknown", optedOut: true }, "drop"],
    [{ phoneError: null, duplicateOf: null, verdict: "unknown", optedOut: false }, "recheck"],
    [{ phoneError: null, duplicateOf: null, verdict: "valid_absent", optedOut: false }, "keep"],
    [{ phoneError: null, duplicateOf: null, verdict: "valid_reachable", optedOut: false }, "keep"],
  ] as const)("%j → %s", (row, action) => {
    expect(decideAction(row)).toBe(action);
  });
});

describe("resultColumnNames", () => {
  it("prefixes hygiene_ to a name the upload has (any case), again if that is taken too", () => {
    expect(resultColumnNames(["name", "phone"])).toEqual([
      "e164", "phone_error", "duplicate_of", "verdict", "reason", "evidence_at", "operator", "country", "roaming", "opted_out", "action",
    ]);
    const names = resultColumnNames(["Country", "verdict", "hygiene_verdict", "action"]);
    expect(names).toContain("hygiene_country");
    expect(names).toContain("hygiene_hygiene_verdict");
    expect(names).toContain("hygiene_action");
    expect(names).not.toContain("verdict");
  });
});

describe("progressOf", () => {
  const startedAt = new Date("2026-01-01T00:00:00Z");
  it("gives the rate, and the seconds left once the total is known", () => {
    const at = new Date(startedAt.getTime() + 10_000);
    expect(progressOf({ rowsDone: 50_000, totalRows: null, startedAt, at, finished: false })).toEqual({ rowsDone: 50_000, totalRows: null, rowsPerSecond: 5000, secondsLeft: null });
    expect(progressOf({ rowsDone: 50_000, totalRows: 100_000, startedAt, at, finished: false })).toMatchObject({ rowsPerSecond: 5000, secondsLeft: 10 });
    expect(progressOf({ rowsDone: 0, totalRows: null, startedAt, at: startedAt, finished: false })).toMatchObject({ rowsPerSecond: null, secondsLeft: null });
    expect(progressOf({ rowsDone: 100_000, totalRows: 100_000, startedAt, at, finished: true })).toMatchObject({ secondsLeft: 0 });
  });
});

describe("SummaryCounter", () => {
  it("adds rows up per verdict, action, operator and country; malformed rows have no operator or country; duplicates become drop", () => {
    const c = new SummaryCounter();
    const g = { verdict: "valid_reachable", action: "keep", operator: "MTS", country: "RU", malformed: false, optedOut: false, rows: 3 };
    c.add(g);
    c.add({ ...g, rows: 3 });
    c.add({ ...g, verdict: "unknown", action: "recheck", operator: null, country: "KZ", rows: 1 });
    c.add({ verdict: null, action: "drop", operator: null, country: null, malformed: true, optedOut: false, rows: 2 });
    c.addDuplicates([{ action: "keep", rows: 1 }]);
    const s = c.summary(VERDICTS);
    expect(s).toEqual({
      rows: 9,
      numbers: 7,
      uniqueNumbers: 6,
      duplicates: 1,
      malformed: 2,
      optedOut: 0,
      byVerdict: { valid_reachable: 6, valid_absent: 0, invalid: 0, barred_or_no_sms: 0, unknown: 1 },
      byAction: { keep: 5, drop: 3, recheck: 1 },
      byOperator: [
        { operator: "MTS", rows: 6 },
        { operator: null, rows: 1 },
      ],
      byCountry: [
        { country: "RU", rows: 6 },
        { country: "KZ", rows: 1 },
      ],
    });
  });
});

describe("JsonStringArrayReader", () => {
  const read = (text: string, size = text.length || 1) => {
    const r = new JsonStringArrayReader();
    const out = pieces(text, size).flatMap((p) => r.push(p));
    return [...out, ...r.end()];
  };
  const text = '[ "79161234567", "+7 916 \\"123\\"", "\\u0038\\u0039", 79161234568, null, "", "Ю\\n" ]';
  it.each([1, 2, 3, 7, 1000])("reads strings, escapes and literals, fed %i characters at a time", (size) => {
    expect(read(text, size).map((i) => i.value)).toEqual(["79161234567", '+7 916 "123"', "89", "79161234568", "null", "", "Ю\n"]);
  });

  it("reads an empty array", () => {
    expect(read("[]")).toEqual([]);
    expect(read(" [ ] \n")).toEqual([]);
  });

  it.each([
    ['{"numbers": []}', "not a JSON array"],
    ['["a", {"b": 1}]', "object or an array"],
    ['["a" "b"]', 'expected ","'],
    ['["a",]', "unexpected"],
    ['["a"', "not closed"],
    ['["a"] x', "after the end"],
    ["[nope]", "not a JSON value"],
  ])("%j is bad_json (%s)", (bad, message) => {
    expect(() => read(bad)).toThrow(message);
    try {
      read(bad);
    } catch (err) {
      expect((err as { code?: string }).code).toBe("bad_json");
    }
  });

  it("marks a value over the limit as an error, and reads on", () => {
    const items = read(`["${"7".repeat(70_000)}", "79161234567"]`, 4096);
    expect(items[0]!.error).toContain("longer than");
    expect(items[1]).toEqual({ value: "79161234567", error: null });
  });
});

describe("MultipartFileExtractor", () => {
  const boundary = "----hygieneBoundary7MA4YWxk";
  const body = multipart(boundary, { note: "ignore me", file: "name,phone\r\nAnna,79161234567\r\n", after: "also ignored" });
  const collect = (data: Uint8Array, size: number, field = "file") => {
    const x = new MultipartFileExtractor(boundary, field);
    const out = pieces(data, size).flatMap((p) => x.push(p));
    x.end();
    return new TextDecoder().decode(bytes(...out));
  };

  it("reads the boundary from the content type", () => {
    expect(multipartBoundary(`multipart/form-data; boundary=${boundary}`)).toBe(boundary);
    expect(multipartBoundary('multipart/form-data; boundary="a b"')).toBe("a b");
    expect(multipartBoundary("multipart/form-data")).toBeNull();
  });

  it.each([1, 2, 5, 13, 64, 10_000])("gives back exactly the file part's bytes, fed %i bytes at a time", (size) => {
    expect(collect(body, size)).toBe("name,phone\r\nAnna,79161234567\r\n");
  });

  it("keeps the part's type and file name", () => {
    const withName = bytes(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="list.json"\r\nContent-Type: application/json\r\n\r\n["79161234567"]\r\n--${boundary}--\r\n`);
    const x = new MultipartFileExtractor(boundary);
    const out = x.push(withName);
    x.end();
    expect(new TextDecoder().decode(bytes(...out))).toBe('["79161234567"]');
    expect(x.file).toEqual({ contentType: "application/json", filename: "list.json" });
  });

  it("no part named file → no_file_part; no boundary → bad_multipart", () => {
    expect(() => collect(multipart(boundary, { other: "x" }), 7)).toThrow(/no part named "file"/);
    const x = new MultipartFileExtractor(boundary);
    expect(() => x.push(new Uint8Array(70 * 1024).fill(65))).toThrow(/no multipart boundary/);
    const cut = new MultipartFileExtractor(boundary);
    cut.push(bytes(`--${boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n7916`));
    expect(() => cut.end()).toThrow(/ends inside the file part/);
  });
});
