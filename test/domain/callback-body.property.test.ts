import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_FIELDS, parseCallbackBody, parseQueryString, type BodyResult } from "../../src/domain/callback-body.js";

const encoder = new TextEncoder();

const cp1251Bytes = new Map<string, number>();
{
  const decoder = new TextDecoder("windows-1251");
  for (let b = 0; b < 256; b++) cp1251Bytes.set(decoder.decode(new Uint8Array([b])), b);
}
const pctBytes = (bytes: Uint8Array): string =>
  [...bytes].map((b) => "%" + b.toString(16).padStart(2, "0")).join("");
const pctCp1251 = (s: string): string => pctBytes(Uint8Array.from([...s], (ch) => cp1251Bytes.get(ch) ?? 0x3f));

const contentTypes = fc.oneof(
  fc.constantFrom(
    undefined,
    "",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=windows-1251",
    "application/json",
    "application/problem+json",
    "text/json",
    "multipart/form-data",
    "multipart/form-data; boundary=b",
    'multipart/form-data; boundary="b"',
    "multipart/form-data; boundary=",
    "text/plain",
    "application/octet-stream",
    ";;;=",
    'x/y; a="unterminated',
  ),
  fc.string({ maxLength: 40 }),
);

// Bytes built from fragments that reach the interesting branches, mixed with random bytes.
const fragments = [
  "--b", "--b--", "\r\n", "\n", "\r", "Content-Disposition: form-data; name=", '"id"', "name=x", "=", "&", "+",
  "%D1", "%d0%a1", "%zz", "%", "{", "}", "[", "]", '"', ":", ",", "\\", "null", "1e5", " ", "\u0000", "\uFEFF", "СТОП",
].map((s) => encoder.encode(s));
const structuredBytes = fc
  .array(fc.oneof(fc.constantFrom(...fragments), fc.uint8Array({ maxLength: 8 })), { maxLength: 40 })
  .map((chunks) => {
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  });

function assertWellFormed(result: BodyResult): void {
  if (result.ok) {
    expect(["empty", "form", "json", "multipart"]).toContain(result.format);
    const keys = Object.keys(result.fields);
    expect(keys.length).toBeLessThanOrEqual(MAX_FIELDS);
    for (const key of keys) {
      expect(key).not.toBe("");
      expect(key).toBe(key.trim());
      expect(typeof result.fields[key]).toBe("string");
    }
  } else {
    expect(["unparseable_body", "bad_json", "bad_multipart", "too_many_fields"]).toContain(result.error.code);
    expect(result.error.message).not.toMatch(/^internal parser failure/);
  }
}

// Strings of visible ASCII and А-я (not Ёё): their cp1251 bytes are never valid UTF-8 once a letter is present,
// so decodeText must take the windows-1251 branch.
const cyrillic = fc.integer({ min: 0x410, max: 0x44f }).map((c) => String.fromCharCode(c));
const asciiVisible = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const cyrillicText = fc
  .tuple(fc.array(fc.oneof(cyrillic, asciiVisible, fc.constant(" ")), { maxLength: 20 }), cyrillic)
  .map(([chars, letter]) => chars.join("") + letter);

describe("callback body properties", () => {
  it("never throws and always returns a well-formed result, for any bytes and content type", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), structuredBytes), contentTypes, (bytes, contentType) => {
        assertWellFormed(parseCallbackBody(bytes, contentType));
      }),
      { numRuns: 3000 },
    );
  });

  it("parseQueryString never throws, for any UTF-16 string, lone surrogates included", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 60 }), (codes) => {
        const fields = parseQueryString(String.fromCharCode(...codes));
        for (const value of Object.values(fields)) expect(typeof value).toBe("string");
      }),
      { numRuns: 2000 },
    );
  });

  // A value starting with U+FEFF is left out: decodeText drops a leading UTF-8 BOM (see the report).
  const key = fc.string({ unit: "binary", minLength: 1, maxLength: 10 }).filter((k) => k.trim() === k && k !== "");
  const value = fc.string({ unit: "binary", maxLength: 20 }).filter((v) => !v.startsWith("\uFEFF"));

  it("round-trips fields encoded as UTF-8 with encodeURIComponent", () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 10, noNullPrototype: true }), (fields) => {
        const form = Object.entries(fields)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
          .join("&");
        const result = parseCallbackBody(encoder.encode(form), "application/x-www-form-urlencoded");
        expect(result.ok && result.fields).toEqual(fields);
        expect(parseQueryString(form)).toEqual(fields);
      }),
      { numRuns: 500 },
    );
  });

  it("decodes windows-1251 escapes in any value, next to UTF-8 ones", () => {
    fc.assert(
      fc.property(cyrillicText, cyrillicText, (a, b) => {
        const form = `a=${pctCp1251(a)}&b=${encodeURIComponent(b)}`;
        expect(parseQueryString(form)).toEqual({ a, b });
        const result = parseCallbackBody(encoder.encode(form), undefined);
        expect(result.ok && result.fields).toEqual({ a, b });
      }),
      { numRuns: 500 },
    );
  });

  it("the URLSearchParams fast path and the byte path agree", () => {
    // Printable ASCII without Z; a `ZZZ` pair with a cp1251 escape forces the byte path.
    const text = fc
      .array(fc.oneof(fc.integer({ min: 0x20, max: 0x59 }), fc.integer({ min: 0x5b, max: 0x7e })), { maxLength: 60 })
      .map((codes) => String.fromCharCode(...codes));
    fc.assert(
      fc.property(text, (form) => {
        const fast = parseCallbackBody(encoder.encode(form), "application/x-www-form-urlencoded");
        const slow = parseCallbackBody(encoder.encode(form + "&ZZZ=%D1"), "application/x-www-form-urlencoded");
        if (!fast.ok || !slow.ok) throw new Error("a declared form body must parse");
        const { ZZZ, ...rest } = slow.fields;
        expect(ZZZ).toBe("С");
        expect(rest).toEqual(fast.format === "empty" ? {} : fast.fields);
      }),
      { numRuns: 2000 },
    );
  });
});
