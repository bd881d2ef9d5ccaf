import { describe, expect, it } from "vitest";
import {
  MAX_FIELDS,
  mergeFields,
  parseCallbackBody,
  parseQueryString,
  type BodyResult,
  type Fields,
} from "../../src/domain/callback-body.js";

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const encoder = new TextEncoder();
const utf8 = (s: string): Uint8Array => encoder.encode(s);

const cp1251Bytes = new Map<string, number>();
{
  const decoder = new TextDecoder("windows-1251");
  for (let b = 0; b < 256; b++) cp1251Bytes.set(decoder.decode(new Uint8Array([b])), b);
}

/** Encodes text as windows-1251 (throws on a character cp1251 cannot represent). */
function cp1251(s: string): Uint8Array {
  return Uint8Array.from([...s], (ch) => {
    const b = cp1251Bytes.get(ch);
    if (b === undefined) throw new Error(`not in windows-1251: ${ch}`);
    return b;
  });
}

/** Percent-escapes every byte: `%D1%D2...`. */
function pct(bytes: Uint8Array): string {
  return [...bytes].map((b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join("");
}

/** Concatenates strings (as UTF-8) and byte arrays. */
function bytes(...parts: (string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) => (typeof p === "string" ? utf8(p) : p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

type Part = { name?: string; filename?: string; headers?: string[]; body: string | Uint8Array };

/** Builds a multipart/form-data body. */
function multipart(boundary: string, parts: Part[], eol = "\r\n"): Uint8Array {
  const pieces: (string | Uint8Array)[] = [];
  for (const part of parts) {
    pieces.push(`--${boundary}${eol}`);
    if (part.name !== undefined) {
      const filename = part.filename === undefined ? "" : `; filename="${part.filename}"`;
      pieces.push(`Content-Disposition: form-data; name="${part.name}"${filename}${eol}`);
    }
    for (const h of part.headers ?? []) pieces.push(h + eol);
    pieces.push(eol, part.body, eol);
  }
  pieces.push(`--${boundary}--${eol}`);
  return bytes(...pieces);
}

const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";
const mp = (boundary: string) => `multipart/form-data; boundary=${boundary}`;

function ok(format: string, fields: Fields): BodyResult {
  return { ok: true, format, fields } as BodyResult;
}

function errorCode(result: BodyResult): string | undefined {
  return result.ok ? undefined : result.error.code;
}

// ---------------------------------------------------------------------------------------------------------------

describe("parseCallbackBody: content types", () => {
  it.each<[string, Uint8Array, string | undefined, BodyResult]>([
    ["form", utf8("id=1&phone=79991234567&status=1"), FORM, ok("form", { id: "1", phone: "79991234567", status: "1" })],
    [
      "form, mixed case with a charset parameter",
      utf8("id=1"),
      "Application/X-WWW-Form-URLEncoded ; Charset=UTF-8",
      ok("form", { id: "1" }),
    ],
    ["application/json", utf8('{"id":"1","status":1}'), JSON_TYPE, ok("json", { id: "1", status: "1" })],
    ["application/json; charset=utf-8", utf8('{"id":"1"}'), "application/json; charset=utf-8", ok("json", { id: "1" })],
    ["a +json suffix", utf8('{"id":"1"}'), "application/vnd.smsc.status+json", ok("json", { id: "1" })],
    ["text/json", utf8('{"id":"1"}'), "TEXT/JSON", ok("json", { id: "1" })],
    [
      "multipart/form-data",
      multipart("XyZ", [
        { name: "id", body: "1" },
        { name: "mes", body: "hello" },
      ]),
      mp("XyZ"),
      ok("multipart", { id: "1", mes: "hello" }),
    ],
    [
      "multipart/form-data with a quoted boundary and a charset first",
      multipart("a b;c", [{ name: "id", body: "1" }]),
      'Multipart/Form-Data; charset=utf-8; BOUNDARY="a b;c"',
      ok("multipart", { id: "1" }),
    ],
    [
      "multipart/form-data with a valueless parameter before the boundary",
      multipart("b", [{ name: "id", body: "1" }]),
      "multipart/form-data; foo; ; boundary=b; x=y",
      ok("multipart", { id: "1" }),
    ],
    ["missing content type, a form", utf8("id=1&status=1"), undefined, ok("form", { id: "1", status: "1" })],
    ["empty content type, a form", utf8("id=1"), "", ok("form", { id: "1" })],
    ["text/plain, a form", utf8("id=1&flag"), "text/plain", ok("form", { id: "1", flag: "" })],
    ["octet-stream, a form with a trailing CRLF", utf8("id=1&x=2\r\n"), "application/octet-stream", ok("form", { id: "1", x: "2" })],
    ["unknown type, a form with a trailing &", utf8("id=1&"), "text/html", ok("form", { id: "1" })],
    ["unknown type, a form with escapes", utf8("mes=a%20b+c"), "text/plain", ok("form", { mes: "a b c" })],
  ])("%s", (_name, body, contentType, expected) => {
    expect(parseCallbackBody(body, contentType)).toEqual(expected);
  });

  it.each<[string, Uint8Array, string | undefined, string]>([
    ["text/plain prose", utf8("hello world"), "text/plain", "unparseable_body"],
    ["no type, a pair with an empty key", utf8("=x&a=1"), undefined, "unparseable_body"],
    ["no type, only separators", utf8("&&&"), undefined, "unparseable_body"],
    ["no type, a tab inside", utf8("a=1\tb=2"), undefined, "unparseable_body"],
    ["no type, CR in the middle", utf8("a=1\r\nb=2"), undefined, "unparseable_body"],
    ["octet-stream, control bytes", new Uint8Array([0x61, 0x3d, 0x00, 0x01, 0x02]), "application/octet-stream", "unparseable_body"],
    ["no type, JSON with a space", utf8('{"id": 1}'), undefined, "unparseable_body"],
    ["JSON, invalid", utf8('{"id":1'), JSON_TYPE, "bad_json"],
    ["JSON, a form sent as JSON", utf8("id=1"), JSON_TYPE, "bad_json"],
    ["JSON, an array", utf8('[{"id":1}]'), JSON_TYPE, "bad_json"],
    ["JSON, a string", utf8('"id"'), JSON_TYPE, "bad_json"],
    ["JSON, null", utf8("null"), JSON_TYPE, "bad_json"],
    ["JSON, a number", utf8("42"), "text/json", "bad_json"],
    ["JSON, 100,000 unclosed [", utf8("[".repeat(100_000)), JSON_TYPE, "bad_json"],
    ["JSON, 100,000 balanced levels in an array", utf8("[".repeat(100_000) + "]".repeat(100_000)), JSON_TYPE, "bad_json"],
    [
      "JSON, 100,000 levels under a key",
      utf8('{"a":' + "[".repeat(100_000) + "]".repeat(100_000) + "}"),
      JSON_TYPE,
      "bad_json",
    ],
    ["JSON, 100,000 nested objects", utf8('{"a":'.repeat(100_000) + "1" + "}".repeat(100_000)), JSON_TYPE, "bad_json"],
    ["multipart without a boundary", multipart("b", [{ name: "id", body: "1" }]), "multipart/form-data", "bad_multipart"],
    ["multipart with an empty boundary", multipart("b", [{ name: "id", body: "1" }]), 'multipart/form-data; boundary=""', "bad_multipart"],
    ["multipart, boundary not in the body", utf8("id=1&status=1"), mp("b"), "bad_multipart"],
    ["multipart, other boundary in the body", multipart("other", [{ name: "id", body: "1" }]), mp("b"), "bad_multipart"],
    [
      "multipart, never closed",
      utf8('--b\r\nContent-Disposition: form-data; name="id"\r\n\r\n1'),
      mp("b"),
      "bad_multipart",
    ],
    [
      "multipart, a header line without a colon",
      utf8("--b\r\nnot a header\r\n\r\n1\r\n--b--\r\n"),
      mp("b"),
      "bad_multipart",
    ],
    ["multipart, garbage after the delimiter", utf8("--bXYZ\r\n\r\n1\r\n--bXYZ--"), mp("b"), "bad_multipart"],
  ])("%s → %s", (_name, body, contentType, code) => {
    const result = parseCallbackBody(body, contentType);
    expect(result.ok).toBe(false);
    expect(errorCode(result)).toBe(code);
    expect(result.ok ? "" : result.error.message).not.toMatch(/^internal parser failure/);
  });
});

describe("parseCallbackBody: empty bodies", () => {
  const types = [FORM, JSON_TYPE, "multipart/form-data", mp("b"), "text/plain", "application/octet-stream", undefined];
  const bodies: [string, Uint8Array][] = [
    ["0 bytes", new Uint8Array(0)],
    ["whitespace", utf8(" \t\r\n \r\n")],
    ["a BOM and a newline", bytes(new Uint8Array([0xef, 0xbb, 0xbf]), "\n")],
  ];
  const cases = types.flatMap((t) => bodies.map(([name, body]) => [String(t), name, body, t] as const));
  it.each(cases)("%s, %s → empty", (_t, _name, body, contentType) => {
    expect(parseCallbackBody(body, contentType)).toEqual(ok("empty", {}));
  });
});

describe("parseCallbackBody: charsets", () => {
  const stop1251 = cp1251("СТОП");
  const stopUtf8 = utf8("СТОП");
  it.each<[string, Uint8Array, string | undefined, Fields]>([
    ["form, cp1251 escapes", utf8("mes=%D1%D2%CE%CF"), FORM, { mes: "СТОП" }],
    ["form, UTF-8 escapes", utf8("mes=%D0%A1%D0%A2%D0%9E%D0%9F"), FORM, { mes: "СТОП" }],
    ["form, lower-case escapes", utf8("mes=%d1%d2%ce%cf"), FORM, { mes: "СТОП" }],
    [
      "form, one cp1251 value among UTF-8 and ASCII ones",
      utf8(`id=7&mes=${pct(stop1251)}&cn=${pct(stopUtf8)}&net=MTS`),
      FORM,
      { id: "7", mes: "СТОП", cn: "СТОП", net: "MTS" },
    ],
    ["form, a cp1251 key", utf8(`${pct(cp1251("имя"))}=1`), FORM, { имя: "1" }],
    ["form, raw cp1251 bytes", bytes("id=1&mes=", stop1251, "&x=%21"), FORM, { id: "1", mes: "СТОП", x: "!" }],
    ["form, raw UTF-8 bytes", bytes("id=1&mes=", stopUtf8), FORM, { id: "1", mes: "СТОП" }],
    ["form, raw UTF-8 with an escaped space", bytes("mes=", stopUtf8, "%20", stopUtf8), FORM, { mes: "СТОП СТОП" }],
    ["no type, raw cp1251 form", bytes("mes=", stop1251), undefined, { mes: "СТОП" }],
    ["no type, cp1251 escapes", utf8(`mes=${pct(stop1251)}`), "text/plain", { mes: "СТОП" }],
    ["JSON, UTF-8", utf8('{"mes":"СТОП"}'), JSON_TYPE, { mes: "СТОП" }],
    ["JSON, cp1251 bytes", bytes('{"mes":"', stop1251, '","id":1}'), JSON_TYPE, { mes: "СТОП", id: "1" }],
    ["JSON, with a UTF-8 BOM", bytes(new Uint8Array([0xef, 0xbb, 0xbf]), '{"mes":"СТОП"}'), JSON_TYPE, { mes: "СТОП" }],
    [
      "JSON, cp1251 with a UTF-8 BOM",
      bytes(new Uint8Array([0xef, 0xbb, 0xbf]), '{"mes":"', stop1251, '"}'),
      JSON_TYPE,
      { mes: "СТОП" },
    ],
    ["JSON, \\u escapes", utf8('{"mes":"\\u0421\\u0422\\u041e\\u041f"}'), JSON_TYPE, { mes: "СТОП" }],
    [
      "multipart, cp1251 value among UTF-8 ones",
      multipart("b", [
        { name: "mes", body: stop1251 },
        { name: "cn", body: stopUtf8 },
      ]),
      mp("b"),
      { mes: "СТОП", cn: "СТОП" },
    ],
    [
      "multipart, a cp1251 field name",
      bytes("--b\r\nContent-Disposition: form-data; name=\"", cp1251("имя"), '"\r\n\r\n1\r\n--b--'),
      mp("b"),
      { имя: "1" },
    ],
  ])("%s", (_name, body, contentType, fields) => {
    const result = parseCallbackBody(body, contentType);
    expect(result.ok && result.fields).toEqual(fields);
  });

  it.each<[string, string, Fields]>([
    ["cp1251 escapes", "mes=%D1%D2%CE%CF&id=1", { mes: "СТОП", id: "1" }],
    ["UTF-8 escapes", "mes=%D0%A1%D0%A2%D0%9E%D0%9F", { mes: "СТОП" }],
    ["one cp1251 value among others", `a=${pct(stopUtf8)}&b=${pct(stop1251)}&c=x`, { a: "СТОП", b: "СТОП", c: "x" }],
    ["a literal non-ASCII character", "mes=СТОП&a=%21", { mes: "СТОП", a: "!" }],
  ])("query string, %s", (_name, query, fields) => {
    expect(parseQueryString(query)).toEqual(fields);
  });
});

describe("form and query decoding", () => {
  // Every case runs twice: once as is (URLSearchParams fast path) and once with a cp1251 pair appended, which
  // forces the byte-level path. Both must give the same fields.
  const cases: [string, string, Fields][] = [
    ["+ is a space", "mes=a+b+%2B&k+1=v", { mes: "a b +", "k 1": "v" }],
    ["malformed escapes are kept literally", "a=%zz&b=100%&c=%4&d=%%41&e=%G1", { a: "%zz", b: "100%", c: "%4", d: "%A", e: "%G1" }],
    ["repeated keys: the first wins", "id=1&status=1&id=2&status=2", { id: "1", status: "1" }],
    ["a repeated key with an empty first value", "id=&id=2", { id: "" }],
    ["keys are trimmed, case kept", "+Mes+=x&MES=y&%20mes%09=z&Mes=w", { Mes: "x", MES: "y", mes: "z" }],
    ["empty keys are skipped", "=x&+=y&%20=z&a=1", { a: "1" }],
    ["bare keys have empty values", "a&b=&c", { a: "", b: "", c: "" }],
    ["values are not trimmed", "a=+x+&b=%20y%0A", { a: " x ", b: " y\n" }],
    ["NUL and control characters are kept", "a=%00&b=x%01y%7F", { a: "\u0000", b: "x\u0001y\u007f" }],
    ["only the first = splits", "a=b=c&d==", { a: "b=c", d: "=" }],
    ["empty segments are ignored", "&&a=1&&b=2&", { a: "1", b: "2" }],
    ["__proto__ and constructor are plain fields", "__proto__=x&constructor=y", { ["__proto__"]: "x", constructor: "y" }],
  ];

  describe.each([
    ["fast path", ""],
    ["byte path", "&zz1251=%D1"],
  ])("%s", (_path, suffix) => {
    it.each(cases)("form: %s", (_name, form, fields) => {
      const result = parseCallbackBody(utf8(form + suffix), FORM);
      const expected = suffix === "" ? fields : { ...fields, zz1251: "С" };
      expect(result).toEqual(ok("form", expected));
    });

    it.each(cases)("query: %s", (_name, query, fields) => {
      const expected = suffix === "" ? fields : { ...fields, zz1251: "С" };
      expect(parseQueryString(query + suffix)).toEqual(expected);
    });
  });

  it("builds maps without a prototype, so a missing key reads as undefined", () => {
    const fields = parseQueryString("__proto__=x&a=1");
    expect(Object.getPrototypeOf(fields)).toBeNull();
    expect(Object.keys(fields)).toEqual(["__proto__", "a"]);
    expect(fields["constructor"]).toBeUndefined();
    expect(fields["toString"]).toBeUndefined();
    const body = parseCallbackBody(utf8('{"__proto__":"x"}'), JSON_TYPE);
    expect(body.ok && Object.keys(body.fields)).toEqual(["__proto__"]);
  });

  it("strips a trailing CR/LF from a form body but keeps an escaped one", () => {
    expect(parseCallbackBody(utf8("a=1&b=2\r\n\n"), FORM)).toEqual(ok("form", { a: "1", b: "2" }));
    expect(parseCallbackBody(utf8("a=1&b=2%0D%0A"), FORM)).toEqual(ok("form", { a: "1", b: "2\r\n" }));
  });

  it.each([
    ["fast path", "?a=1&b=2", { "?a": "1", b: "2" }],
    ["byte path", "?a=1&b=%D1", { "?a": "1", b: "С" }],
  ])("keeps a leading ? of a form body in the first key (%s)", (_path, form, fields) => {
    expect(parseCallbackBody(utf8(form), FORM)).toEqual(ok("form", fields));
  });

  it("accepts a query string with a leading ?", () => {
    expect(parseQueryString("?a=1&b=2")).toEqual({ a: "1", b: "2" });
    expect(parseQueryString("")).toEqual({});
  });
});

describe("parseCallbackBody: JSON values", () => {
  it.each<[string, string, Fields]>([
    ["strings as they are", '{"mes":"a \\"b\\"\\n","e":""}', { mes: 'a "b"\n', e: "" }],
    ["numbers as their JSON text", '{"id":1717585407,"p":1.50,"n":-0,"e":1E3}', { id: "1717585407", p: "1.50", n: "-0", e: "1E3" }],
    ["big integers are not rounded", '{"id":12345678901234567890}', { id: "12345678901234567890" }],
    ["booleans", '{"a":true,"b":false}', { a: "true", b: "false" }],
    ["null is empty", '{"a":null}', { a: "" }],
    ["nested values are JSON text", '{"o":{ "x" : [1, "y", null] },"a":[ ]}', { o: '{"x":[1,"y",null]}', a: "[]" }],
    ["repeated keys: the first wins", '{"id":"1","id":"2"}', { id: "1" }],
    ["keys are trimmed; empty keys skipped", '{" id ":"1","":"x","  ":"y"}', { id: "1" }],
    ["NUL is kept", '{"a":"x\\u0000y"}', { a: "x\u0000y" }],
    ["whitespace between tokens", ' \n{ "a" :\t1 ,\r\n "b" : "2" } \n', { a: "1", b: "2" }],
    ["an empty object", "{}", {}],
    ["strings with braces inside", '{"a":"}{][","b":{"c":"}"}}', { a: "}{][", b: '{"c":"}"}' }],
  ])("%s", (_name, json, fields) => {
    expect(parseCallbackBody(utf8(json), JSON_TYPE)).toEqual(ok("json", fields));
  });

  it("does not throw on deep nesting", () => {
    const deep = utf8('{"a":' + "[".repeat(100_000) + "]".repeat(100_000) + "}");
    expect(() => parseCallbackBody(deep, JSON_TYPE)).not.toThrow();
    expect(errorCode(parseCallbackBody(deep, JSON_TYPE))).toBe("bad_json");
  });
});

describe("parseCallbackBody: multipart", () => {
  it.each<[string, Uint8Array, string, Fields]>([
    [
      "LF-only line endings",
      multipart("b", [{ name: "id", body: "1" }, { name: "mes", body: "x" }], "\n"),
      mp("b"),
      { id: "1", mes: "x" },
    ],
    [
      "a preamble and an epilogue",
      bytes("This is a preamble\r\n", multipart("b", [{ name: "id", body: "1" }]), "epilogue --b\r\n"),
      mp("b"),
      { id: "1" },
    ],
    [
      "unquoted name, extra headers, any header case",
      utf8("--b\r\ncontent-type: text/plain\r\nCONTENT-DISPOSITION: form-data; name=id\r\n\r\n1\r\n--b--"),
      mp("b"),
      { id: "1" },
    ],
    [
      "a file part's content is kept as text",
      multipart("b", [{ name: "doc", filename: "a.txt", headers: ["Content-Type: text/plain"], body: "line1\r\nline2" }]),
      mp("b"),
      { doc: "line1\r\nline2" },
    ],
    [
      "values keep CRLF, NUL, leading and trailing spaces",
      multipart("b", [{ name: "v", body: bytes(" a\r\n", new Uint8Array([0]), "b ") }]),
      mp("b"),
      { v: " a\r\n\u0000b " },
    ],
    ["an empty value", multipart("b", [{ name: "v", body: "" }]), mp("b"), { v: "" }],
    [
      "a part without a name is skipped",
      multipart("b", [{ headers: ["Content-Type: text/plain"], body: "x" }, { name: "id", body: "1" }]),
      mp("b"),
      { id: "1" },
    ],
    [
      "repeated names: the first wins",
      multipart("b", [{ name: "id", body: "1" }, { name: "id", body: "2" }]),
      mp("b"),
      { id: "1" },
    ],
    [
      "a boundary-like line inside a value is content",
      multipart("b", [{ name: "v", body: "x\r\n--bb\r\n--b-z" }]),
      mp("b"),
      { v: "x\r\n--bb\r\n--b-z" },
    ],
    [
      "transport padding after a delimiter",
      utf8('--b  \r\nContent-Disposition: form-data; name="id"\r\n\r\n1\r\n--b\t\r\nContent-Disposition: form-data; name="x"\r\n\r\n2\r\n--b--'),
      mp("b"),
      { id: "1", x: "2" },
    ],
    [
      "a quoted name with ; and an escaped quote",
      utf8('--b\r\nContent-Disposition: form-data; name="a;\\"b"\r\n\r\n1\r\n--b--'),
      mp("b"),
      { 'a;"b': "1" },
    ],
    ["a name with spaces is trimmed", multipart("b", [{ name: " id ", body: "1" }]), mp("b"), { id: "1" }],
    [
      "a browser-style boundary",
      multipart("----WebKitFormBoundary7MA4YWxkTrZu0gW", [{ name: "id", body: "1" }]),
      mp("----WebKitFormBoundary7MA4YWxkTrZu0gW"),
      { id: "1" },
    ],
  ])("%s", (_name, body, contentType, fields) => {
    expect(parseCallbackBody(body, contentType)).toEqual(ok("multipart", fields));
  });
});

describe("MAX_FIELDS", () => {
  const pairs = (n: number, extra = "") => Array.from({ length: n }, (_, i) => `k${i}=${i}${extra}`).join("&");

  it.each<[string, (n: number) => [Uint8Array, string]]>([
    ["form, fast path", (n) => [utf8(pairs(n)), FORM]],
    ["form, byte path", (n) => [utf8(pairs(n, "%D1")), FORM]],
    ["form, sniffed", (n) => [utf8(pairs(n)), "text/plain"]],
    ["form, repeated keys count", (n) => [utf8(Array.from({ length: n }, () => "k=1").join("&")), FORM]],
    ["JSON", (n) => [utf8("{" + Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(",") + "}"), JSON_TYPE]],
    ["multipart", (n) => [multipart("b", Array.from({ length: n }, (_, i) => ({ name: `k${i}`, body: String(i) }))), mp("b")]],
  ])("%s: MAX_FIELDS is accepted, one more is too_many_fields", (_name, make) => {
    const [atLimit, type] = make(MAX_FIELDS);
    const accepted = parseCallbackBody(atLimit, type);
    expect(accepted.ok).toBe(true);
    const [over, type2] = make(MAX_FIELDS + 1);
    expect(errorCode(parseCallbackBody(over, type2))).toBe("too_many_fields");
  });

  it.each([
    ["fast path", ""],
    ["byte path", "%D1"],
  ])("query string, %s: keeps the first MAX_FIELDS pairs", (_name, extra) => {
    const fields = parseQueryString(pairs(MAX_FIELDS + 5, extra));
    expect(Object.keys(fields)).toHaveLength(MAX_FIELDS);
    expect(fields[`k${MAX_FIELDS - 1}`]).toBeDefined();
    expect(fields[`k${MAX_FIELDS}`]).toBeUndefined();
  });
});

describe("mergeFields", () => {
  it.each<[string, Fields, Fields, Fields]>([
    ["body wins for the same key", { id: "q", a: "1" }, { id: "b", b: "2" }, { id: "b", a: "1", b: "2" }],
    ["an empty body value still wins", { id: "q" }, { id: "" }, { id: "" }],
    ["query only", { a: "1" }, {}, { a: "1" }],
    ["body only", {}, { a: "1" }, { a: "1" }],
    ["keys differing in case are different", { ID: "q" }, { id: "b" }, { ID: "q", id: "b" }],
  ])("%s", (_name, query, body, expected) => {
    const queryCopy = { ...query };
    const bodyCopy = { ...body };
    expect(mergeFields(query, body)).toEqual(expected);
    expect(query).toEqual(queryCopy);
    expect(body).toEqual(bodyCopy);
  });

  it("merges parsed query and body into a map without a prototype", () => {
    const merged = mergeFields(parseQueryString("id=1&token=t&__proto__=q"), parseQueryString("id=2&status=1"));
    expect(merged).toEqual({ id: "2", token: "t", status: "1", ["__proto__"]: "q" });
    expect(Object.getPrototypeOf(merged)).toBeNull();
  });
});
