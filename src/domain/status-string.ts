// Parses SMPP-style status strings into one StatusRecord, and formats a record back into such a line
// (smsc-protocol.md §8). Two families arrive:
//   - SMSC's HLR result: `id:.. stat:.. err:.. imsi:.. msc:.. mcc:.. mnc:.. cn:.. net:.. rcn:.. rnet:..`
//   - the SMPP v3.4 delivery receipt: `id:.. sub:.. dlvrd:.. submit date:.. done date:.. stat:.. err:.. text:..`
// The parser is a hand-written scanner, linear in the length of the line (no backtracking regular
// expressions), and tolerant of what real gateways send: any key order and case, a glued prefix before the
// first key, trailing NUL/CR/LF, keyless words, a whole line still form-encoded.

import { fail, ok, type Parsed } from "./parsed.js";
import { decodeFormValue } from "./text-decode.js";

/** One status line as a record. Absent fields are `null`; values are strings as sent (leading zeros kept). */
export type StatusRecord = {
  id: string;
  stat: string;
  err: string | null;
  /** ISO-8601 local time `YYYY-MM-DDTHH:MM:SS`, as written (no time zone). */
  submitDate: string | null;
  doneDate: string | null;
  sub: string | null;
  dlvrd: string | null;
  text: string | null;
  imsi: string | null;
  msc: string | null;
  mcc: string | null;
  mnc: string | null;
  cn: string | null;
  net: string | null;
  rcn: string | null;
  rnet: string | null;
  /** `null` unless `rcn` or `rnet` is present; then true when either is non-empty. */
  roaming: boolean | null;
  /** Other `key:value` pairs, keys lower-cased, the first occurrence of a key kept. */
  extra: Record<string, string>;
};

/**
 * The known keys. `read` says how a value is read:
 * - `token`: one whitespace-free token, kept as sent;
 * - `date`: one token, an SMPP date turned into ISO-8601 local time;
 * - `words`: runs to the next key (country/operator names sent unencoded with spaces), then URL-decoded;
 * - `rest`: everything to the end of the line.
 */
export const STATUS_STRING_FIELDS = {
  id: { keys: ["id"], read: "token", meaning: "message id; case kept (hex ids exist)" },
  stat: { keys: ["stat"], read: "token", meaning: "message state; upper-cased, not mapped" },
  err: { keys: ["err"], read: "token", meaning: "network or SMSC error code; leading zeros kept" },
  sub: { keys: ["sub"], read: "token", meaning: "parts submitted" },
  dlvrd: { keys: ["dlvrd"], read: "token", meaning: "parts delivered" },
  submitDate: { keys: ["submit date", "submitdate", "submit_date"], read: "date", meaning: "time submitted" },
  doneDate: { keys: ["done date", "donedate", "done_date"], read: "date", meaning: "time of the final state" },
  text: { keys: ["text"], read: "rest", meaning: "the first characters of the message" },
  imsi: { keys: ["imsi"], read: "token", meaning: "subscriber IMSI" },
  msc: { keys: ["msc"], read: "token", meaning: "serving MSC address" },
  mcc: { keys: ["mcc"], read: "token", meaning: "mobile country code" },
  mnc: { keys: ["mnc"], read: "token", meaning: "mobile network code" },
  cn: { keys: ["cn"], read: "words", meaning: "home country name" },
  net: { keys: ["net"], read: "words", meaning: "home network name" },
  rcn: { keys: ["rcn"], read: "words", meaning: "roaming country name (empty when at home)" },
  rnet: { keys: ["rnet"], read: "words", meaning: "roaming network name (empty when at home)" },
} as const;

type FieldName = keyof typeof STATUS_STRING_FIELDS;

/** The error codes `parseStatusString` returns. */
export const STATUS_STRING_ERRORS = {
  empty_line: "the line holds nothing but whitespace, NUL, CR or LF",
  missing_id: "no non-empty `id`",
  missing_stat: "no non-empty `stat`",
  bad_date: "`submit date` or `done date` is present but is not a valid date",
} as const;

export type StatusStringErrorCode = keyof typeof STATUS_STRING_ERRORS;

// ---------------------------------------------------------------------------------------------------------
// Character classes (char codes; no regular expressions).

const COLON = 58;
const BOM = 0xfeff;

/** Whitespace, NUL, CR, LF and the other C0 controls separate tokens. */
function isSpace(c: number): boolean {
  return c <= 32;
}

/** Space or tab: what may sit inside the key `submit date`. */
function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isAsciiDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Characters of a key name: ASCII letters, digits, `_`, `-`, `.` (so `msg_id` and `msg-id` are not `id`). */
function isKeyChar(c: number): boolean {
  return isAsciiLetter(c) || isAsciiDigit(c) || c === 95 || c === 45 || c === 46;
}

/** ASCII punctuation that may end a prefix glued onto the first key (`12345#id:`, `MESSAGE=id:`). */
function isPrefixEnd(c: number): boolean {
  return c > 32 && c < 127 && !isKeyChar(c);
}

// ---------------------------------------------------------------------------------------------------------
// Key matching.

const KEY_TO_FIELD: ReadonlyMap<string, FieldName> = new Map(
  (Object.keys(STATUS_STRING_FIELDS) as FieldName[]).flatMap((field) =>
    STATUS_STRING_FIELDS[field].keys.map((key): [string, FieldName] => [key, field]),
  ),
);

/** First words of two-word keys (`submit date`, `done date`). */
const TWO_WORD_FIRSTS: ReadonlySet<string> = new Set(
  [...KEY_TO_FIELD.keys()].filter((key) => key.includes(" ")).map((key) => key.slice(0, key.indexOf(" "))),
);

const MAX_KEY_WORD = Math.max(...[...KEY_TO_FIELD.keys()].flatMap((key) => key.split(" ").map((w) => w.length)));

type KeyMatch = { field: FieldName; valueStart: number };

/** Reads a key word of at most MAX_KEY_WORD characters at `p`; returns its end, or -1 when none fits. */
function readKeyWord(s: string, p: number, end: number): number {
  let i = p;
  while (i < end && isKeyChar(s.charCodeAt(i))) {
    i++;
    if (i - p > MAX_KEY_WORD) return -1;
  }
  return i === p ? -1 : i;
}

/** Matches a known key followed by `:` starting exactly at `p` (the caller checks the boundary). */
function matchKnownKey(s: string, p: number, end: number): KeyMatch | null {
  const wordEnd = readKeyWord(s, p, end);
  if (wordEnd < 0 || wordEnd >= end) return null;
  const word = s.slice(p, wordEnd).toLowerCase();
  if (s.charCodeAt(wordEnd) === COLON) {
    const field = KEY_TO_FIELD.get(word);
    return field === undefined ? null : { field, valueStart: wordEnd + 1 };
  }
  if (!TWO_WORD_FIRSTS.has(word) || !isBlank(s.charCodeAt(wordEnd))) return null;
  let q = wordEnd;
  while (q < end && isBlank(s.charCodeAt(q))) q++;
  const secondEnd = readKeyWord(s, q, end);
  if (secondEnd < 0 || secondEnd >= end || s.charCodeAt(secondEnd) !== COLON) return null;
  const field = KEY_TO_FIELD.get(`${word} ${s.slice(q, secondEnd).toLowerCase()}`);
  return field === undefined ? null : { field, valueStart: secondEnd + 1 };
}

/** Looks inside the token at `p` for a known key glued after a punctuation prefix (`12345#id:`). */
function findGluedKey(s: string, p: number, end: number): KeyMatch | null {
  for (let j = p + 1; j < end && !isSpace(s.charCodeAt(j)); j++) {
    if (!isPrefixEnd(s.charCodeAt(j - 1))) continue;
    const match = matchKnownKey(s, j, end);
    if (match) return match;
  }
  return null;
}

function findTokenEnd(s: string, p: number, end: number): number {
  let i = p;
  while (i < end && !isSpace(s.charCodeAt(i))) i++;
  return i;
}

function skipSpaces(s: string, p: number, end: number): number {
  let i = p;
  while (i < end && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** The colon of an unknown `key:value` token (key: an ASCII letter, then key characters), or -1. */
function findUnknownKeyColon(s: string, p: number, tokenEnd: number): number {
  if (!isAsciiLetter(s.charCodeAt(p))) return -1;
  for (let i = p + 1; i < tokenEnd; i++) {
    const c = s.charCodeAt(i);
    if (c === COLON) return i;
    if (!isKeyChar(c)) return -1;
  }
  return -1;
}

/** True when a known key, or an unknown `key:value` token, starts at the token boundary `p`. */
function startsKey(s: string, p: number, end: number): boolean {
  return matchKnownKey(s, p, end) !== null || findUnknownKeyColon(s, p, findTokenEnd(s, p, end)) > 0;
}

// ---------------------------------------------------------------------------------------------------------
// Scanning.

type ScannedLine = {
  /** Raw values of known fields (the first occurrence of each); `words` values not yet decoded. */
  values: Map<FieldName, string>;
  extra: Map<string, string>;
  sawKnownKey: boolean;
};

/** Reads the value of a matched key into `values`; returns where scanning goes on. */
function readValue(s: string, match: KeyMatch, end: number, values: Map<FieldName, string>): number {
  const { field, valueStart } = match;
  const remember = (value: string): void => {
    if (!values.has(field)) values.set(field, value);
  };
  switch (STATUS_STRING_FIELDS[field].read) {
    case "token":
    case "date": {
      const valueEnd = findTokenEnd(s, valueStart, end);
      remember(s.slice(valueStart, valueEnd));
      return valueEnd;
    }
    case "words": {
      // Token after token until the next key at a token boundary; keyless words become part of the name.
      let valueEnd = findTokenEnd(s, valueStart, end);
      let next = skipSpaces(s, valueEnd, end);
      while (next < end && !startsKey(s, next, end)) {
        valueEnd = findTokenEnd(s, next, end);
        next = skipSpaces(s, valueEnd, end);
      }
      remember(s.slice(skipSpaces(s, valueStart, valueEnd), valueEnd));
      return next;
    }
    case "rest": {
      // An empty `text:` directly followed by a known key does not swallow that key.
      if (valueStart < end && isSpace(s.charCodeAt(valueStart))) {
        const next = skipSpaces(s, valueStart, end);
        if (next >= end || matchKnownKey(s, next, end) !== null) {
          remember("");
          return next;
        }
      }
      remember(s.slice(valueStart, end));
      return end;
    }
  }
}

/** Scans a line into raw field values. `start`/`end` exclude the surrounding whitespace. */
function scanLine(s: string): ScannedLine {
  const values = new Map<FieldName, string>();
  const extra = new Map<string, string>();
  let sawKnownKey = false;
  const [start, end] = findContentBounds(s);
  let pos = start;
  while (pos < end) {
    pos = skipSpaces(s, pos, end);
    if (pos >= end) break;
    const match = matchKnownKey(s, pos, end) ?? (sawKnownKey ? null : findGluedKey(s, pos, end));
    if (match) {
      sawKnownKey = true;
      pos = readValue(s, match, end, values);
      continue;
    }
    const tokenEnd = findTokenEnd(s, pos, end);
    const colon = findUnknownKeyColon(s, pos, tokenEnd);
    if (colon > 0) {
      const key = s.slice(pos, colon).toLowerCase();
      if (!extra.has(key)) extra.set(key, s.slice(colon + 1, tokenEnd));
    }
    pos = tokenEnd; // a keyless word: ignored
  }
  return { values, extra, sawKnownKey };
}

/** The line without a leading byte-order mark and surrounding whitespace, NUL, CR and LF. */
function findContentBounds(s: string): [number, number] {
  let start = s.length > 0 && s.charCodeAt(0) === BOM ? 1 : 0;
  start = skipSpaces(s, start, s.length);
  let end = s.length;
  while (end > start && isSpace(s.charCodeAt(end - 1))) end--;
  return [start, end];
}

function containsEncodedColon(s: string): boolean {
  return s.indexOf("%3A") >= 0 || s.indexOf("%3a") >= 0;
}

// ---------------------------------------------------------------------------------------------------------
// Dates.

function isDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isAsciiDigit(s.charCodeAt(i))) return false;
  return true;
}

function isZeros(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) !== 48) return false;
  return true;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** Builds `YYYY-MM-DDTHH:MM:SS` from digit fields, or null when they are not a real time. */
function buildLocalTime(digits: string, yearWidth: 2 | 4, withSeconds: boolean): string | null {
  const num = (from: number, width: number): number => Number(digits.slice(from, from + width));
  const y = yearWidth === 4 ? num(0, 4) : 2000 + num(0, 2);
  const month = num(yearWidth, 2);
  const day = num(yearWidth + 2, 2);
  const hour = num(yearWidth + 4, 2);
  const minute = num(yearWidth + 6, 2);
  const second = withSeconds ? num(yearWidth + 8, 2) : 0;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(y, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  return `${pad(y, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}`;
}

/**
 * Reads an SMPP receipt date: `YYMMDDhhmm`, `YYMMDDhhmmss` (or `YYYYMMDDhhmm` when only that reading is a
 * valid date), `YYYYMMDDhhmmss`, or the SMPP absolute time `YYMMDDhhmmsstnnp` (tenths and offset dropped).
 * Empty or all zeros is `null`; anything else that is not a real time is a failure.
 */
function parseReceiptDate(raw: string): Parsed<string | null> {
  const bad = fail("bad_date", STATUS_STRING_ERRORS.bad_date);
  if (raw.length === 0) return ok(null);
  if (raw.length === 16) {
    const p = raw.charCodeAt(15);
    const validSuffix = p === 43 /* + */ || p === 45 /* - */ || p === 82; /* R */
    if (!validSuffix || !isDigits(raw, 0, 15)) return bad;
    if (isZeros(raw, 0, 15)) return ok(null);
    const time = buildLocalTime(raw.slice(0, 12), 2, true);
    return time === null ? bad : ok(time);
  }
  if (!isDigits(raw, 0, raw.length)) return bad;
  if (isZeros(raw, 0, raw.length)) return ok(null);
  let time: string | null = null;
  if (raw.length === 10) time = buildLocalTime(raw, 2, false);
  else if (raw.length === 12) time = buildLocalTime(raw, 2, true) ?? buildLocalTime(raw, 4, false);
  else if (raw.length === 14) time = buildLocalTime(raw, 4, true);
  return time === null ? bad : ok(time);
}

/** Reads `submit date` or `done date`: absent is `null`; present but not a date is `bad_date`. */
function readDateField(values: Map<FieldName, string>, field: "submitDate" | "doneDate"): Parsed<string | null> {
  const raw = values.get(field);
  if (raw === undefined) return ok(null);
  const date = parseReceiptDate(raw);
  if (date.ok) return date;
  const shown = JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
  return fail("bad_date", `\`${STATUS_STRING_FIELDS[field].keys[0]}\` is not a valid date: ${shown}`);
}

// ---------------------------------------------------------------------------------------------------------
// Parser.

/** Parses one status line (HLR result or SMPP delivery receipt) into a record, or a typed error. */
/**
 * SMSC's HLR string exactly as its documentation writes it (the form nearly every HLR line takes): read with one
 * anchored regular expression, which cannot backtrack (each group's class excludes the space that ends it). Any
 * other line, or any variation of this one, goes to the general scanner, which gives the same record for these.
 */
const CANONICAL_HLR =
  /^id:(\d{1,64}) stat:([A-Za-z]{1,32}) err:(\d{1,10}) imsi:(\d{0,20}) msc:(\d{0,20}) mcc:(\d{0,3}) mnc:(\d{0,3}) cn:([^ :\u0000-\u001f]*) net:([^ :\u0000-\u001f]*) rcn:([^ :\u0000-\u001f]*) rnet:([^ :\u0000-\u001f]*)$/;

function parseCanonicalHlr(line: string): StatusRecord | null {
  const m = CANONICAL_HLR.exec(line);
  if (!m) return null;
  const [cn, net, rcn, rnet] = [decodeFormValue(m[8]!), decodeFormValue(m[9]!), decodeFormValue(m[10]!), decodeFormValue(m[11]!)];
  return {
    id: m[1]!,
    stat: m[2]!.toUpperCase(),
    err: m[3]!,
    submitDate: null,
    doneDate: null,
    sub: null,
    dlvrd: null,
    text: null,
    imsi: m[4]!,
    msc: m[5]!,
    mcc: m[6]!,
    mnc: m[7]!,
    cn,
    net,
    rcn,
    rnet,
    roaming: rcn.trim() !== "" || rnet.trim() !== "",
    extra: {},
  };
}

export function parseStatusString(line: string): Parsed<StatusRecord> {
  const canonical = parseCanonicalHlr(line);
  if (canonical !== null) return ok(canonical);
  return parseGeneral(line);
}

/** The general scanner: any order, any noise, both families of line. */
export function parseGeneral(line: string): Parsed<StatusRecord> {
  const [start, end] = findContentBounds(line);
  if (start >= end) return fail("empty_line", STATUS_STRING_ERRORS.empty_line);

  let scanned = scanLine(line);
  if (!scanned.sawKnownKey && containsEncodedColon(line)) {
    // Still form-encoded (`id%3A123+sub%3A001...`): decode the whole line, then read it.
    scanned = scanLine(decodeFormValue(line));
  }
  const { values, extra } = scanned;

  const id = values.get("id");
  if (!id) return fail("missing_id", STATUS_STRING_ERRORS.missing_id);
  const stat = values.get("stat");
  if (!stat) return fail("missing_stat", STATUS_STRING_ERRORS.missing_stat);

  const submitDate = readDateField(values, "submitDate");
  if (!submitDate.ok) return submitDate;
  const doneDate = readDateField(values, "doneDate");
  if (!doneDate.ok) return doneDate;

  const decoded = (field: "cn" | "net" | "rcn" | "rnet"): string | null => {
    const raw = values.get(field);
    return raw === undefined ? null : decodeFormValue(raw);
  };
  const [cn, net, rcn, rnet] = [decoded("cn"), decoded("net"), decoded("rcn"), decoded("rnet")];
  const roaming =
    rcn === null && rnet === null ? null : (rcn ?? "").trim() !== "" || (rnet ?? "").trim() !== "";

  const kept = (field: FieldName): string | null => values.get(field) ?? null;
  return ok({
    id,
    stat: stat.toUpperCase(),
    err: kept("err"),
    submitDate: submitDate.value,
    doneDate: doneDate.value,
    sub: kept("sub"),
    dlvrd: kept("dlvrd"),
    text: kept("text"),
    imsi: kept("imsi"),
    msc: kept("msc"),
    mcc: kept("mcc"),
    mnc: kept("mnc"),
    cn,
    net,
    rcn,
    rnet,
    roaming,
    extra: Object.fromEntries(extra),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Formatter.

const utf8 = new TextEncoder();

/** Form-encodes a name: space as `+`; `%`, `+`, controls and non-ASCII as `%XX` UTF-8 bytes. */
function encodeFormValue(value: string): string {
  let out = "";
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    if (c === 32) out += "+";
    else if (c > 32 && c < 127 && c !== 37 /* % */ && c !== 43 /* + */) out += ch;
    else for (const byte of utf8.encode(ch)) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** `YYYY-MM-DDTHH:MM:SS` → `YYYYMMDDhhmmss`. */
function formatReceiptDate(iso: string): string {
  let out = "";
  for (let i = 0; i < iso.length; i++) if (isAsciiDigit(iso.charCodeAt(i))) out += iso[i];
  return out;
}

/**
 * Writes a record as a status line that `parseStatusString` reads back to the same record: the receipt and
 * HLR fields in their usual order (`cn net rcn rnet` form-encoded, dates as `YYYYMMDDhhmmss`), then `extra`,
 * then `text` last. `roaming` is not written: the parser derives it from `rcn`/`rnet`.
 * What reads back exactly: token values (`id`, `err`, ... and `extra` values) hold no whitespace or control
 * characters; `stat` is upper-case; `extra` keys are lower-case key names (an ASCII letter, then letters,
 * digits, `_`, `-`, `.`) that are not known keys; `text` does not start or end with whitespace or a control
 * character.
 */
export function formatStatusString(record: StatusRecord): string {
  const parts: string[] = [`id:${record.id}`];
  const add = (key: string, value: string | null): void => {
    if (value !== null) parts.push(`${key}:${value}`);
  };
  add("sub", record.sub);
  add("dlvrd", record.dlvrd);
  add("submit date", record.submitDate === null ? null : formatReceiptDate(record.submitDate));
  add("done date", record.doneDate === null ? null : formatReceiptDate(record.doneDate));
  add("stat", record.stat);
  add("err", record.err);
  add("imsi", record.imsi);
  add("msc", record.msc);
  add("mcc", record.mcc);
  add("mnc", record.mnc);
  for (const field of ["cn", "net", "rcn", "rnet"] as const) {
    const value = record[field];
    add(field, value === null ? null : encodeFormValue(value));
  }
  for (const [key, value] of Object.entries(record.extra)) add(key, value);
  add("text", record.text);
  return parts.join(" ");
}
