// Property tests for the status-string parser and formatter (fast-check).
//
// 1. The parser never throws, and answers either a record with a non-empty id and an upper-case stat, or one
//    of the documented error codes: for arbitrary strings (lone surrogates included) and for a "soup" of key
//    fragments, escapes, separators and digits that reaches the scanner's corners.
// 2. A record the formatter writes comes back as the same record, also behind a glued prefix, leading
//    whitespace and trailing NUL/CR/LF/whitespace.
// 3. A line assembled independently of the formatter, with keys shuffled, mixed key case and spellings,
//    keyless words, unencoded names with bad escapes, a prefix and a noisy end, gives the modelled record.
// 4. Parsing is a normal form: formatting a parsed record and parsing it again changes nothing (for names
//    without lone surrogates or a leading U+FEFF, which UTF-8 form-encoding cannot carry back; see below).
//
// Generator constraints (what the formatter needs to read back exactly; see formatStatusString):
// - token values (id, stat, err, sub, dlvrd, imsi, msc, mcc, mnc, extra values) hold no character <= U+0020
//   (whitespace and control characters separate tokens); id and stat are non-empty; stat is upper-case;
// - extra keys are lower-case key names ([a-z][a-z0-9_.-]*) that are not known keys;
// - text does not start or end with a character <= U+0020;
// - cn/net/rcn/rnet are any Unicode text, except that they do not start with U+FEFF: text-decode.ts decodes
//   with a BOM-stripping UTF-8 decoder, so a value starting with an encoded U+FEFF loses it;
// - dates are real times in years 0001-9999; roaming is derived from rcn/rnet as the parser does.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatStatusString,
  parseStatusString,
  STATUS_STRING_ERRORS,
  type StatusRecord,
} from "../../src/domain/status-string.js";
import type { Parsed } from "../../src/domain/parsed.js";

const NUM_RUNS = 400;

const KNOWN_KEYS = new Set([
  "id", "stat", "err", "sub", "dlvrd", "submitdate", "submit_date", "donedate", "done_date",
  "text", "imsi", "msc", "mcc", "mnc", "cn", "net", "rcn", "rnet",
]);

function deriveRoaming(rcn: string | null, rnet: string | null): boolean | null {
  if (rcn === null && rnet === null) return null;
  return (rcn ?? "").trim() !== "" || (rnet ?? "").trim() !== "";
}

function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return true;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

function expectWellFormed(result: Parsed<StatusRecord>): void {
  if (result.ok) {
    expect(result.value.id).not.toBe("");
    expect(result.value.stat).not.toBe("");
    expect(result.value.stat).toBe(result.value.stat.toUpperCase());
  } else {
    expect(Object.keys(STATUS_STRING_ERRORS)).toContain(result.error.code);
  }
}

// --- arbitraries ------------------------------------------------------------------------------------------

/** Any UTF-16 code unit, lone surrogates included. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** Fragments that exercise keys, prefixes, names, dates, text and form-encoding. */
const soupPiece = fc.oneof(
  fc.constantFrom(
    "id:", "ID:", "stat:", "err:", "sub:", "xsub:", "dlvrd:", "submit", "done", " date:", "submit date:",
    "done_date:", "text:", "cn:", "net:", "rcn:", "rnet:", "imsi:", "mnc:", "foo:", "_x:",
    " ", "  ", "\t", "\u0000", "\r", "\n", "\uFEFF", "#", "|", "=", ":", "+", "%", "%3A", "%3a", "%2B",
    "%zz", "%D0%A0", "%D0", "%FF", "%E9", "Ж", "DELIVRD", "delivrd",
    "2401151230", "240115123045", "202401151230", "20240229123045", "240115123045012+", "0000000000",
    "1", "00", "abc",
  ),
  fc.string({ unit: anyCodeUnit, maxLength: 3 }),
);
const soupLine = fc.array(soupPiece, { maxLength: 40 }).map((pieces) => pieces.join(""));
/** Soup after a valid head, so that most lines parse. */
const soupRecordLine = fc
  .tuple(fc.constantFrom("id:1 stat:X ", "x#ID:ab STAT:delivrd\t", "stat:a id:b cn:"), soupLine)
  .map(([head, soup]) => head + soup);

/** A token character: anything above U+0020 (no whitespace or control characters), non-ASCII included. */
const tokenChar = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom("Ж", "é", "😀", "\u00a0", "\uFEFF", "%", "+", ":", "#") },
).filter((ch) => ch.charCodeAt(0) > 32);
const token = (minLength: number) => fc.string({ unit: tokenChar, minLength, maxLength: 12 });

const nameValue = fc
  .string({ unit: "binary", maxLength: 16 })
  .filter((s) => !s.startsWith("\uFEFF"));

const textValue = fc
  .string({ unit: fc.oneof(tokenChar, fc.constantFrom(" ", " stat:X ", "id:9", "\t", "text:")), maxLength: 20 })
  .filter((s) => s === "" || (s.charCodeAt(0) > 32 && s.charCodeAt(s.length - 1) > 32));

const isoDate = fc
  .date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 19));

const extraKey = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,8}$/).filter((k) => !KNOWN_KEYS.has(k));

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });

const recordArb: fc.Arbitrary<StatusRecord> = fc
  .record({
    id: token(1),
    stat: token(1).filter((s) => s === s.toUpperCase()),
    err: optional(token(0)),
    submitDate: optional(isoDate),
    doneDate: optional(isoDate),
    sub: optional(token(0)),
    dlvrd: optional(token(0)),
    text: optional(textValue),
    imsi: optional(token(0)),
    msc: optional(token(0)),
    mcc: optional(token(0)),
    mnc: optional(token(0)),
    cn: optional(nameValue),
    net: optional(nameValue),
    rcn: optional(nameValue),
    rnet: optional(nameValue),
    extra: fc.dictionary(extraKey, token(0), { maxKeys: 3 }),
  })
  .map((r) => ({ ...r, roaming: deriveRoaming(r.rcn, r.rnet), extra: { ...r.extra } }));

/** Prefixes real gateways glue onto the first key. */
const gluedPrefix = fc.oneof(
  fc.constant(""),
  fc.stringMatching(/^[0-9]{1,8}$/).map((digits) => `${digits}#`),
  fc.constantFrom("x|MESSAGE=", "2024-01-15 12:30:45|MESSAGE=", "DLR:", "deliver_sm>", "[dlr]"),
);
const lineEnd = fc.string({ unit: fc.constantFrom("\u0000", "\r", "\n", " ", "\t"), maxLength: 4 });
const lineStart = fc.string({ unit: fc.constantFrom(" ", "\t"), maxLength: 2 });

// --- properties -------------------------------------------------------------------------------------------

describe("parseStatusString never throws", () => {
  it("on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: anyCodeUnit, maxLength: 200 }), (line) => {
        expectWellFormed(parseStatusString(line));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("on a soup of key fragments, escapes, separators and dates", () => {
    fc.assert(
      fc.property(soupLine, (line) => {
        expectWellFormed(parseStatusString(line));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("formatStatusString → parseStatusString", () => {
  it("gives back the same record", () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        expect(parseStatusString(formatStatusString(record))).toEqual({ ok: true, value: record });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("gives back the same record behind a glued prefix, leading blanks and a noisy line end", () => {
    fc.assert(
      fc.property(recordArb, gluedPrefix, lineStart, lineEnd, (record, prefix, start, end) => {
        const line = `${start}${prefix}${formatStatusString(record)}${end}`;
        expect(parseStatusString(line)).toEqual({ ok: true, value: record });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("is a normal form: a parsed line, formatted and parsed again, is unchanged", () => {
    fc.assert(
      fc.property(soupRecordLine, (line) => {
        const first = parseStatusString(line);
        fc.pre(first.ok);
        if (!first.ok) return;
        const { cn, net, rcn, rnet } = first.value;
        // Names are written as UTF-8, which has no lone surrogates (they only exist in JS strings, never in
        // decoded bytes); a leading U+FEFF is dropped by text-decode.ts (see the header).
        fc.pre(![cn, net, rcn, rnet].some((name) => name !== null && (name.startsWith("\uFEFF") || hasLoneSurrogate(name))));
        expect(parseStatusString(formatStatusString(first.value))).toEqual(first);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

// --- independently assembled noisy lines ------------------------------------------------------------------

type Segment = { text: string; known: boolean; allowsKeylessAfter: boolean };

/** Letters that are not hex digits, so no word and escape fragment joins into a valid `%XX`. */
const nameWord = fc.string({
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(..."ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ") },
    { weight: 1, arbitrary: fc.constantFrom("%", "%z", "%zz", "%G1", "%q%") },
  ),
  minLength: 1,
  maxLength: 6,
});
/** A name sent as words separated by `+` (encoded) or by spaces (unencoded). */
const noisyName = fc.record({
  words: fc.array(nameWord, { maxLength: 3 }),
  separator: fc.constantFrom("+", " ", "  "),
});
const digits = fc.stringMatching(/^[0-9]{1,6}$/);

/** A date written in one of the four receipt forms, with the ISO time it stands for. */
const noisyDate = fc
  .record({
    time: fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true }),
    form: fc.constantFrom("10", "12", "14", "16"),
    suffix: fc.constantFrom("+", "-", "R"),
  })
  .map(({ time, form, suffix }) => {
    const iso = time.toISOString().slice(0, 19);
    const full = iso.replace(/[-T:]/g, ""); // YYYYMMDDhhmmss
    switch (form) {
      case "10":
        return { raw: full.slice(2, 12), iso: `${iso.slice(0, 17)}00` };
      case "12":
        return { raw: full.slice(2), iso };
      case "14":
        return { raw: full, iso };
      default:
        return { raw: `${full.slice(2)}104${suffix}`, iso };
    }
  });

const noisyModel = fc.record({
  id: fc.stringMatching(/^[A-Za-z0-9]{1,12}$/),
  stat: fc.stringMatching(/^[A-Za-z0-9_]{1,10}$/),
  err: optional(digits),
  sub: optional(digits),
  dlvrd: optional(digits),
  imsi: optional(digits),
  msc: optional(digits),
  mcc: optional(digits),
  mnc: optional(digits),
  submitDate: optional(noisyDate),
  doneDate: optional(noisyDate),
  cn: optional(noisyName),
  net: optional(noisyName),
  rcn: optional(noisyName),
  rnet: optional(noisyName),
  extra: fc.dictionary(
    fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/).filter((k) => !KNOWN_KEYS.has(k)),
    fc.stringMatching(/^[A-Za-z0-9.]{0,8}$/),
    { maxKeys: 3 },
  ),
  text: optional(fc.stringMatching(/^[A-Za-z0-9:%]([A-Za-z0-9 :%]{0,10}[A-Za-z0-9:%])?$/)),
});
type NoisyModel = typeof noisyModel extends fc.Arbitrary<infer T> ? T : never;

function expectedRecord(m: NoisyModel): StatusRecord {
  // `+` decodes to one space; spaces sent unencoded stay as they are.
  const name = (n: NoisyModel["cn"]): string | null =>
    n === null ? null : n.words.join(n.separator === "+" ? " " : n.separator);
  const [rcn, rnet] = [name(m.rcn), name(m.rnet)];
  return {
    id: m.id,
    stat: m.stat.toUpperCase(),
    err: m.err,
    submitDate: m.submitDate?.iso ?? null,
    doneDate: m.doneDate?.iso ?? null,
    sub: m.sub,
    dlvrd: m.dlvrd,
    text: m.text,
    imsi: m.imsi,
    msc: m.msc,
    mcc: m.mcc,
    mnc: m.mnc,
    cn: name(m.cn),
    net: name(m.net),
    rcn,
    rnet,
    roaming: deriveRoaming(rcn, rnet),
    extra: { ...m.extra },
  };
}

function buildSegments(m: NoisyModel, spellings: { submit: string; done: string; upper: boolean }): Segment[] {
  const segments: Segment[] = [];
  const key = (k: string): string => (spellings.upper ? k.toUpperCase() : k);
  const token = (k: string, v: string | null): void => {
    if (v !== null) segments.push({ text: `${key(k)}:${v}`, known: true, allowsKeylessAfter: true });
  };
  token("id", m.id);
  token("stat", m.stat);
  for (const k of ["err", "sub", "dlvrd", "imsi", "msc", "mcc", "mnc"] as const) token(k, m[k]);
  token(spellings.submit, m.submitDate?.raw ?? null);
  token(spellings.done, m.doneDate?.raw ?? null);
  for (const k of ["cn", "net", "rcn", "rnet"] as const) {
    const n = m[k];
    // Keyless words after a name would join it, so none go there.
    if (n !== null) segments.push({ text: `${key(k)}:${n.words.join(n.separator)}`, known: true, allowsKeylessAfter: false });
  }
  for (const [k, v] of Object.entries(m.extra)) segments.push({ text: `${k}:${v}`, known: false, allowsKeylessAfter: true });
  return segments;
}

const keylessWord = fc.constantFrom("foo", "12:30", "#", "x#y", "%zz", "ab%3", "--", "Ж");

const noisyLine = noisyModel.chain((m) =>
  fc
    .record({
      spellings: fc.record({
        submit: fc.constantFrom("submit date", "submitdate", "submit_date", "submit  date"),
        done: fc.constantFrom("done date", "donedate", "done_date"),
        upper: fc.boolean(),
      }),
      prefix: gluedPrefix,
      separator: fc.constantFrom(" ", "  ", "\t"),
      end: lineEnd,
    })
    .chain(({ spellings, prefix, separator, end }) => {
      const segments = buildSegments(m, spellings);
      return fc
        .record({
          order: fc.shuffledSubarray(segments, { minLength: segments.length, maxLength: segments.length }),
          keyless: fc.array(fc.option(keylessWord, { nil: null }), {
            minLength: segments.length,
            maxLength: segments.length,
          }),
        })
        .map(({ order, keyless }) => {
          const parts: string[] = [];
          order.forEach((segment, i) => {
            parts.push(segment.text);
            const word = keyless[i];
            if (word != null && segment.allowsKeylessAfter) parts.push(word);
          });
          if (m.text !== null) parts.push(`${spellings.upper ? "TEXT" : "text"}:${m.text}`);
          // A glued prefix needs a known first key. Before an unknown key the prefix stands apart as a
          // keyless word, unless it is itself a key (`DLR:`), which then goes without.
          const glue = order[0]?.known ? prefix : prefix === "" || prefix.endsWith(":") ? "" : `${prefix} `;
          return { line: `${glue}${parts.join(separator)}${end}`, expected: expectedRecord(m) };
        });
    }),
);

describe("noisy lines assembled independently of the formatter", () => {
  it("give the modelled record: shuffled keys, spellings, keyless words, bad escapes, prefixes", () => {
    fc.assert(
      fc.property(noisyLine, ({ line, expected }) => {
        expect(parseStatusString(line)).toEqual({ ok: true, value: expected });
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
