// Number-list hygiene: the pure parts. How an uploaded list is read (encoding, delimiter, header row, which column
// holds the phone), what each row's action is, what the result columns are called, and the incremental readers for
// the upload's formats (CSV records across lines, a JSON array of strings, the `file` part of a multipart body).
// No I/O, no clock: the service in services/hygiene.ts feeds these with the bytes as they arrive.
import { fail, ok, type Parsed } from "./parsed.js";
import type { Verdict } from "./verdict.js";

// ---- problems -----------------------------------------------------------------------------------------------------

/** What can be wrong with an upload as a whole (a malformed row is not one of these: it gets its own phone_error). */
export const HYGIENE_PROBLEMS = {
  empty_body: { status: 422, field: "body", title: "Empty list" },
  no_phone_column: { status: 422, field: "column", title: "No phone column" },
  unknown_column: { status: 422, field: "column", title: "Unknown column" },
  bad_encoding: { status: 415, field: "body", title: "Unsupported encoding" },
  too_many_rows: { status: 413, field: "body", title: "Too many rows" },
  bad_json: { status: 422, field: "body", title: "Not a JSON array of strings" },
  bad_multipart: { status: 422, field: "body", title: "Unreadable multipart body" },
  no_file_part: { status: 422, field: "file", title: "No file part" },
  upload_timeout: { status: 408, field: "body", title: "Upload timed out" },
  upload_aborted: { status: 400, field: "body", title: "Upload interrupted" },
  interrupted: { status: 503, field: "body", title: "Interrupted" },
  /** Not the upload's fault (the database failed part-way, say): only ever a report's failure, logged. */
  internal: { status: 500, field: "body", title: "Internal error" },
} as const;
export type HygieneProblemCode = keyof typeof HYGIENE_PROBLEMS;

export type HygieneProblem = { code: HygieneProblemCode; message: string };

/** A report's failure as stored (`code: message`) and read back. */
export function formatFailure(p: HygieneProblem): string {
  return `${p.code}: ${p.message}`;
}

export function parseFailure(text: string): { code: string; message: string } {
  const at = text.indexOf(": ");
  return at > 0 ? { code: text.slice(0, at), message: text.slice(at + 2) } : { code: "failed", message: text };
}

// ---- encoding -----------------------------------------------------------------------------------------------------

export type UploadEncoding = "utf-8" | "utf-8-bom" | "windows-1251";

/** How many leading bytes decide the encoding. */
export const SNIFF_BYTES = 64 * 1024;

const strictUtf8 = () => new TextDecoder("utf-8", { fatal: true });

/**
 * The encoding of an upload from its first bytes: UTF-8 (with or without BOM) when they are valid UTF-8 (a sequence
 * cut at the end of the sample is allowed), else windows-1251. UTF-16 (a BOM, or NUL bytes) and binary data (NUL or
 * many control bytes) are neither: `bad_encoding`.
 */
export function sniffEncoding(sample: Uint8Array): Parsed<UploadEncoding> {
  if ((sample[0] === 0xff && sample[1] === 0xfe) || (sample[0] === 0xfe && sample[1] === 0xff)) {
    return fail("bad_encoding", "the body is UTF-16 (it starts with a UTF-16 byte order mark); send UTF-8 or windows-1251");
  }
  let controls = 0;
  for (let i = 0; i < sample.length; i++) {
    const b = sample[i]!;
    if (b === 0) return fail("bad_encoding", "the body has NUL bytes: it is binary or UTF-16, not UTF-8 or windows-1251 text");
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) controls++;
  }
  if (controls > Math.max(2, sample.length / 100)) {
    return fail("bad_encoding", "the body has control bytes: it is binary, not UTF-8 or windows-1251 text");
  }
  const bom = sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf;
  try {
    strictUtf8().decode(sample, { stream: true });
    return ok(bom ? "utf-8-bom" : "utf-8");
  } catch {
    return ok("windows-1251");
  }
}

// ---- CSV ----------------------------------------------------------------------------------------------------------

export const DELIMITERS = [",", ";", "\t"] as const;
export type Delimiter = (typeof DELIMITERS)[number];

/** How often `d` occurs outside quotes in one line (a line that opens a quote and does not close it counts to its end). */
function countOutsideQuotes(line: string, d: string): number {
  let n = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === d && !quoted) n++;
  }
  return n;
}

/**
 * The delimiter of a CSV from its first lines: the one that appears the same number of times (at least once) in
 * most lines; tab, then `;`, then `,` when two do equally well. Null: no delimiter at all (one column).
 */
export function detectDelimiter(lines: readonly string[]): Delimiter | null {
  const sample = lines.filter((l) => l.trim() !== "").slice(0, 50);
  if (sample.length === 0) return null;
  let best: { d: Delimiter; consistent: number; count: number } | null = null;
  for (const d of ["\t", ";", ","] as const) {
    const counts = sample.map((l) => countOutsideQuotes(l, d));
    const freq = new Map<number, number>();
    for (const c of counts) if (c > 0) freq.set(c, (freq.get(c) ?? 0) + 1);
    let mode = 0;
    let modeLines = 0;
    for (const [c, f] of freq) if (f > modeLines || (f === modeLines && c > mode)) [mode, modeLines] = [c, f];
    if (mode === 0) continue;
    // Lines with the delimiter at all (a field that spans lines or a ragged row still counts a little).
    const present = counts.filter((c) => c > 0).length;
    const consistent = modeLines + present / 1000;
    if (!best || consistent > best.consistent + 1e-9) best = { d, consistent, count: mode };
  }
  if (!best || best.consistent < sample.length * 0.5) return null;
  return best.d;
}

/** At most this many characters in one CSV record (a quote left open would otherwise swallow the rest). */
export const MAX_RECORD_CHARS = 64 * 1024;

export type CsvRecord = { cells: string[]; error: string | null };

/**
 * Reads CSV records line by line (RFC 4180 quoting: `"a ""b"", c"`; a field may span lines). Lenient: a quote inside
 * an unquoted field is kept as a character, text after a closing quote is kept. A record still open after
 * MAX_RECORD_CHARS is given back as it stands with an error, and reading goes on from the next line.
 */
export class CsvRecordReader {
  private cells: string[] = [];
  private field = "";
  private quoted = false;
  private pending = 0;

  constructor(private readonly delimiter: string) {}

  /** Feeds one line (without its line break); returns the record it completes, or null while a quote is open. */
  push(line: string): CsvRecord | null {
    if (this.quoted) {
      this.field += "\n";
      this.pending += line.length + 1;
      if (this.pending > MAX_RECORD_CHARS) {
        this.cells.push(this.field.slice(0, 1000));
        return this.reset(`a quoted field is not closed within ${MAX_RECORD_CHARS} characters`);
      }
    } else {
      this.pending = line.length;
      // Fast path: no quote on the line and no record open.
      if (this.cells.length === 0 && line.indexOf('"') < 0) return { cells: line.split(this.delimiter), error: null };
    }
    const d = this.delimiter;
    let i = 0;
    let atFieldStart = !this.quoted && this.field === "";
    while (i < line.length) {
      if (this.quoted) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          this.field += line.slice(i);
          return null;
        }
        this.field += line.slice(i, q);
        if (line[q + 1] === '"') {
          this.field += '"';
          i = q + 2;
        } else {
          this.quoted = false;
          i = q + 1;
        }
        continue;
      }
      const ch = line[i]!;
      if (ch === d) {
        this.cells.push(this.field);
        this.field = "";
        atFieldStart = true;
        i++;
      } else if (ch === '"' && atFieldStart) {
        this.quoted = true;
        atFieldStart = false;
        i++;
      } else {
        // Up to the next delimiter or quote, in one piece.
        let j = i + 1;
        while (j < line.length && line[j] !== d && line[j] !== '"') j++;
        this.field += line.slice(i, j);
        atFieldStart = false;
        i = j;
        if (line[j] === '"') {
          this.field += '"'; // a quote inside an unquoted field: a character
          i = j + 1;
        }
      }
    }
    if (this.quoted) return null;
    this.cells.push(this.field);
    return this.reset(null);
  }

  /** The record left open at the end of the input, if any. */
  end(): CsvRecord | null {
    if (!this.quoted && this.cells.length === 0 && this.field === "") return null;
    this.cells.push(this.field);
    return this.reset(this.quoted ? "a quoted field is not closed at the end of the input" : null);
  }

  private reset(error: string | null): CsvRecord {
    const record = { cells: this.cells, error };
    this.cells = [];
    this.field = "";
    this.quoted = false;
    this.pending = 0;
    return record;
  }
}

/** True when every cell is empty or blank: such a record is not a data row. */
export function isBlankRecord(cells: readonly string[]): boolean {
  for (const c of cells) if (c.trim() !== "") return false;
  return true;
}

// ---- the phone column ---------------------------------------------------------------------------------------------

/** Header names that mean "the phone number", compared after `normalizeHeader`. */
export const PHONE_HEADERS = [
  "phone", "phones", "phonenumber", "phoneno", "msisdn", "number", "tel", "telephone", "mobile", "mobilephone",
  "mobilenumber", "cell", "cellphone", "gsm", "e164", "телефон", "тел", "номер", "номертелефона", "мобильный",
  "мобильныйтелефон", "моб", "мобтел", "мобтелефон", "сотовый", "сотовыйтелефон", "контактныйтелефон",
] as const;
const PHONE_HEADER_SET = new Set<string>(PHONE_HEADERS);
/** Parts of longer header names that still say "phone" (`work_phone`, `Телефон клиента`). */
const PHONE_HEADER_PARTS = ["phone", "msisdn", "телефон"];

/** A header compared without case, spaces, `_ - . : # №` and with ё as е. */
export function normalizeHeader(name: string): string {
  return name.trim().toLowerCase().replace(/ё/g, "е").replace(/[\s_\-.:#№"'()]+/g, "");
}

/** 2: the header is a phone header name; 1: it contains one; 0: neither. */
export function phoneHeaderRank(name: string): 0 | 1 | 2 {
  const n = normalizeHeader(name);
  if (n === "") return 0;
  if (PHONE_HEADER_SET.has(n)) return 2;
  return PHONE_HEADER_PARTS.some((p) => n.includes(p)) ? 1 : 0;
}

const PHONE_SEPARATORS = /[\s\-().\u00a0/]/g;

/**
 * True when a value looks like a phone number: a leading `+` (or `00`) and 7 to 15 digits, or 10 to 15 digits
 * (11-digit Russian numbers, 10-digit national ones), with the usual separators. Shorter bare numbers (ids, sums)
 * do not.
 */
export function looksLikePhone(value: string): boolean {
  const v = value.trim();
  if (v.length < 7 || v.length > 32) return false;
  const s = v.replace(PHONE_SEPARATORS, "");
  if (s.startsWith("+")) return /^\+\d{7,15}$/.test(s);
  if (s.startsWith("00")) return /^00\d{7,15}$/.test(s);
  return /^\d{10,15}$/.test(s);
}

/** The `column` option: a 1-based index when all digits, else a header name. */
export type ColumnOption = { index: number } | { name: string };

export function parseColumnOption(value: string): ColumnOption {
  const v = value.trim();
  return /^\d{1,4}$/.test(v) ? { index: Number(v) } : { name: v };
}

export type Layout = {
  /** The first record is a header row (not data). */
  header: boolean;
  /** 0-based index of the phone column. */
  phoneColumn: number;
  /** The input's column names: the header's cells, else `column_1`, `column_2`... (`phone` for a one-column list). */
  columns: string[];
};

/** The share of non-empty values in column `c` that look like phone numbers; -1 when the column has none. */
function phoneShare(records: readonly string[][], c: number): number {
  let values = 0;
  let phones = 0;
  for (const r of records) {
    const v = r[c];
    if (v === undefined || v.trim() === "") continue;
    values++;
    if (looksLikePhone(v)) phones++;
  }
  return values === 0 ? -1 : phones / values;
}

/** From this share of phone-like values on, a column "mostly looks like phone numbers". */
export const PHONE_SHARE = 0.5;

/**
 * Finds the header row and the phone column from the first records of a list: by `column` when given (a 1-based
 * index or a header name), else by a phone header name, else the first column whose values mostly look like phone
 * numbers. A first row is a header when it names the phone column, or when its phone cell does not look like a
 * phone while the rows after it mostly do.
 */
export function detectLayout(
  sample: readonly string[][],
  column: ColumnOption | null,
  options: { header: "detect" | "by-name" | "none"; singleColumnName?: string } = { header: "detect" },
): Parsed<Layout> {
  const first = sample[0];
  if (!first) return fail("empty_body", "the list has no rows");
  const rest = sample.slice(1);
  const width = Math.max(...sample.map((r) => r.length));
  const names = (header: boolean): string[] => {
    const cols: string[] = [];
    for (let i = 0; i < width; i++) {
      cols.push(header ? (first[i] ?? `column_${i + 1}`) : width === 1 ? (options.singleColumnName ?? "phone") : `column_${i + 1}`);
    }
    return cols;
  };
  const headerFor = (c: number): boolean => {
    if (options.header === "none") return false;
    if (phoneHeaderRank(first[c] ?? "") > 0 && !looksLikePhone(first[c] ?? "")) return true;
    if (options.header === "by-name") return false;
    return sample.length > 1 && !looksLikePhone(first[c] ?? "") && phoneShare(rest, c) >= PHONE_SHARE;
  };
  // One column: it is the phone column if anything in it looks like a phone; several: if most of it does.
  const need = width === 1 ? 0 : PHONE_SHARE;

  if (column && "index" in column) {
    if (column.index < 1 || column.index > width) {
      return fail("unknown_column", `column ${column.index} does not exist: the list has ${width} column${width === 1 ? "" : "s"}`);
    }
    const c = column.index - 1;
    const header = headerFor(c);
    return ok({ header, phoneColumn: c, columns: names(header) });
  }
  if (column && "name" in column) {
    if (options.header === "none") return fail("unknown_column", `the list has no header row: name the column by its number (1)`);
    const want = normalizeHeader(column.name);
    let c = first.findIndex((h) => h.trim() === column.name.trim());
    if (c < 0) c = first.findIndex((h) => normalizeHeader(h) === want);
    if (c < 0) {
      const have = first.slice(0, 20).map((h) => JSON.stringify(h)).join(", ");
      return fail("unknown_column", `no column is named "${column.name}": the first row is ${have}`);
    }
    return ok({ header: true, phoneColumn: c, columns: names(true) });
  }
  // A phone header name in the first row (an exact name before one that only contains it).
  for (const rank of options.header === "none" ? [] : ([2, 1] as const)) {
    const c = first.findIndex((h) => phoneHeaderRank(h) === rank && !looksLikePhone(h));
    if (c >= 0) return ok({ header: true, phoneColumn: c, columns: names(true) });
  }
  // The first column whose values mostly look like phone numbers (with or without the first row: it may be a header).
  const qualifies = (share: number) => (need === 0 ? share > 0 : share >= need);
  for (let c = 0; c < width; c++) {
    if (qualifies(phoneShare(sample, c)) || (rest.length > 0 && qualifies(phoneShare(rest, c)))) {
      const header = headerFor(c);
      return ok({ header, phoneColumn: c, columns: names(header) });
    }
  }
  return fail(
    "no_phone_column",
    `no column looks like phone numbers (in the first ${sample.length} row${sample.length === 1 ? "" : "s"}) and none is named like one ` +
      `(${PHONE_HEADERS.slice(0, 6).join(", ")}, ...): name it with the column option (?column= on the API, --column on the command line)`,
  );
}

// ---- actions and result columns ----------------------------------------------------------------------------------

export const ACTIONS = ["keep", "drop", "recheck"] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * What to do with a row: `drop` for a row that is not a phone number, a duplicate after the first, an invalid or
 * barred number, or an opted-out one; `recheck` for `unknown` (no fresh evidence); `keep` otherwise.
 */
export function decideAction(row: { phoneError: string | null; duplicateOf: number | null; verdict: Verdict | null; optedOut: boolean }): Action {
  if (row.phoneError !== null || row.verdict === null) return "drop";
  if (row.duplicateOf !== null) return "drop";
  if (row.optedOut || row.verdict === "invalid" || row.verdict === "barred_or_no_sms") return "drop";
  if (row.verdict === "unknown") return "recheck";
  return "keep";
}

/** The columns the result adds after the uploaded ones. */
export const RESULT_COLUMNS = [
  "e164", "phone_error", "duplicate_of", "verdict", "reason", "evidence_at", "operator", "country", "roaming", "opted_out", "action",
] as const;
export type ResultColumn = (typeof RESULT_COLUMNS)[number];

/** The result columns' names: one whose name clashes with an uploaded header (any case) gets the prefix `hygiene_`. */
export function resultColumnNames(inputColumns: readonly string[]): string[] {
  const taken = new Set(inputColumns.map((c) => c.trim().toLowerCase()));
  return RESULT_COLUMNS.map((name) => {
    let n: string = name;
    while (taken.has(n)) n = `hygiene_${n}`;
    taken.add(n);
    return n;
  });
}

// ---- progress -----------------------------------------------------------------------------------------------------

export type Progress = { rowsDone: number; totalRows: number | null; rowsPerSecond: number | null; secondsLeft: number | null };

/** Rows per second since the report started, and the seconds left at that rate (when the total is known). */
export function progressOf(r: { rowsDone: number; totalRows: number | null; startedAt: Date; at: Date; finished: boolean }): Progress {
  const seconds = (r.at.getTime() - r.startedAt.getTime()) / 1000;
  const rate = seconds > 0 && r.rowsDone > 0 ? r.rowsDone / seconds : null;
  let left: number | null = null;
  if (r.finished) left = 0;
  else if (r.totalRows !== null && rate !== null) left = Math.max(0, (r.totalRows - r.rowsDone) / rate);
  return {
    rowsDone: r.rowsDone,
    totalRows: r.totalRows,
    rowsPerSecond: rate === null ? null : Math.round(rate * 10) / 10,
    secondsLeft: left === null ? null : Math.ceil(left),
  };
}

// ---- summary ------------------------------------------------------------------------------------------------------

/** Rows of one kind, as classified (before duplicates are known). */
export type SummaryGroup = {
  verdict: string | null;
  action: string | null;
  operator: string | null;
  country: string | null;
  malformed: boolean;
  optedOut: boolean;
  rows: number;
};

export type Summary = {
  rows: number;
  /** Rows with a phone number (not malformed). */
  numbers: number;
  uniqueNumbers: number;
  duplicates: number;
  malformed: number;
  optedOut: number;
  byVerdict: Record<Verdict, number>;
  byAction: Record<Action, number>;
  /** Rows per operator (null: not known), most rows first. */
  byOperator: { operator: string | null; rows: number }[];
  /** Rows per country (ISO code; null: not known), most rows first. */
  byCountry: { country: string | null; rows: number }[];
};

/**
 * Adds a report's rows up into its summary: each row as it is classified, then the duplicates once they are known
 * (a duplicate keeps its verdict, operator and country; its action becomes `drop`).
 */
export class SummaryCounter {
  private rows = 0;
  private malformed = 0;
  private duplicates = 0;
  private optedOut = 0;
  private readonly verdicts = new Map<string, number>();
  private readonly actions = new Map<string, number>();
  private readonly operators = new Map<string | null, number>();
  private readonly countries = new Map<string | null, number>();

  add(g: SummaryGroup): void {
    const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + g.rows);
    this.rows += g.rows;
    if (g.malformed) this.malformed += g.rows;
    if (g.optedOut) this.optedOut += g.rows;
    if (g.verdict !== null) bump(this.verdicts, g.verdict);
    if (g.action !== null) bump(this.actions, g.action);
    if (!g.malformed) {
      bump(this.operators, g.operator);
      bump(this.countries, g.country);
    }
  }

  /** Duplicates found after the rows were counted, by the action they had before they became `drop`. */
  addDuplicates(byFormerAction: readonly { action: string; rows: number }[]): void {
    for (const { action, rows } of byFormerAction) {
      this.duplicates += rows;
      this.actions.set(action, (this.actions.get(action) ?? 0) - rows);
      this.actions.set("drop", (this.actions.get("drop") ?? 0) + rows);
    }
  }

  summary(verdicts: readonly Verdict[]): Summary {
    const sorted = <K>(m: Map<K, number>) =>
      [...m].sort((a, b) => b[1] - a[1] || String(a[0] ?? "\uffff").localeCompare(String(b[0] ?? "\uffff")));
    const numbers = this.rows - this.malformed;
    return {
      rows: this.rows,
      numbers,
      uniqueNumbers: numbers - this.duplicates,
      duplicates: this.duplicates,
      malformed: this.malformed,
      optedOut: this.optedOut,
      byVerdict: Object.fromEntries(verdicts.map((v) => [v, this.verdicts.get(v) ?? 0])) as Record<Verdict, number>,
      byAction: Object.fromEntries(ACTIONS.map((a) => [a, this.actions.get(a) ?? 0])) as Record<Action, number>,
      byOperator: sorted(this.operators).map(([operator, rows]) => ({ operator, rows })),
      byCountry: sorted(this.countries).map(([country, rows]) => ({ country, rows })),
    };
  }
}

// ---- JSON array of strings ----------------------------------------------------------------------------------------

/** At most this many characters in one value of a list (longer: a malformed row). */
export const MAX_VALUE_CHARS = 64 * 1024;

export type JsonItem = { value: string; error: string | null };

type JsonState = "start" | "first" | "value" | "after" | "string" | "literal" | "done";

/**
 * Reads a JSON array of strings as its text arrives (`push(text)` gives back the items it completed). Numbers and
 * `null`/`true`/`false` are items too (their text): they fail as phone numbers on their own. Anything else (an
 * object or array inside, a syntax error, text after the array) is `bad_json`, thrown as an error with that code.
 */
export class JsonStringArrayReader {
  private state: JsonState = "start";
  private buf = "";
  private escape = "";
  private tooLong = false;
  private position = 0;
  private count = 0;

  push(text: string): JsonItem[] {
    const items: JsonItem[] = [];
    let i = 0;
    const n = text.length;
    while (i < n) {
      switch (this.state) {
        case "string": {
          if (this.escape !== "") {
            i = this.readEscape(text, i);
            continue;
          }
          // Up to the next quote or backslash in one piece.
          let j = i;
          while (j < n) {
            const c = text.charCodeAt(j);
            if (c === 34 || c === 92) break;
            if (c < 0x20) this.bad(`a control character inside a string`, j);
            j++;
          }
          this.append(text.slice(i, j));
          if (j >= n) {
            i = j;
            continue;
          }
          if (text.charCodeAt(j) === 92) {
            this.escape = "\\";
            i = j + 1;
            continue;
          }
          items.push(this.take());
          this.state = "after";
          i = j + 1;
          continue;
        }
        case "literal": {
          let j = i;
          while (j < n && /[0-9A-Za-z+\-.]/.test(text[j]!)) j++;
          this.append(text.slice(i, j));
          i = j;
          if (j < n) {
            items.push(this.takeLiteral(j));
            this.state = "after";
          }
          continue;
        }
        default: {
          const ch = text[i]!;
          if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r" || ch === "\ufeff") {
            i++;
            continue;
          }
          if (this.state === "start") {
            if (ch !== "[") this.bad("the body is not a JSON array: send an array of strings", i);
            this.state = "first";
          } else if (this.state === "value" || this.state === "first") {
            if (ch === '"') this.state = "string";
            else if (ch === "]" && this.state === "first") this.state = "done";
            else if (ch === "{" || ch === "[") this.bad("the array holds an object or an array: send an array of strings", i);
            else if (/[0-9\-ntf]/.test(ch)) {
              this.state = "literal";
              continue; // the literal reads this character
            } else this.bad(`unexpected "${ch}"`, i);
          } else if (this.state === "after") {
            if (ch === ",") this.state = "value";
            else if (ch === "]") this.state = "done";
            else this.bad(`expected "," or "]", not "${ch}"`, i);
          } else this.bad("text after the end of the array", i);
          i++;
        }
      }
    }
    this.position += n;
    return items;
  }

  /** Checks that the array was closed; gives back a literal that ended with the input. */
  end(): JsonItem[] {
    if (this.state === "literal") {
      const item = this.takeLiteral(0);
      this.state = "after";
      return [item];
    }
    if (this.state === "start") return [];
    if (this.state !== "done") this.bad("the JSON array is not closed", 0);
    return [];
  }

  /** How many values have been read. */
  get values(): number {
    return this.count;
  }

  private append(s: string): void {
    if (this.tooLong) return;
    if (this.buf.length + s.length > MAX_VALUE_CHARS) {
      this.tooLong = true;
      this.buf = this.buf.slice(0, 64);
    } else this.buf += s;
  }

  private takeLiteral(at: number): JsonItem {
    if (!/^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|null|true|false)$/.test(this.buf)) this.bad(`"${this.buf.slice(0, 20)}" is not a JSON value`, at);
    return this.take();
  }

  private take(): JsonItem {
    this.count++;
    const item: JsonItem = { value: this.buf, error: this.tooLong ? `the value is longer than ${MAX_VALUE_CHARS} characters` : null };
    this.buf = "";
    this.tooLong = false;
    return item;
  }

  private readEscape(text: string, i: number): number {
    this.escape += text[i]!;
    const e = this.escape;
    if (e.length === 2) {
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (e[1] === "u") return i + 1;
      const out = simple[e[1]!];
      if (out === undefined) this.bad(`a bad escape "${e}"`, i);
      this.append(out!);
      this.escape = "";
      return i + 1;
    }
    if (e.length === 6) {
      if (!/^\\u[0-9a-fA-F]{4}$/.test(e)) this.bad(`a bad escape "${e}"`, i);
      this.append(String.fromCharCode(parseInt(e.slice(2), 16)));
      this.escape = "";
    }
    return i + 1;
  }

  private bad(message: string, at: number): never {
    throw Object.assign(new Error(`${message} (at character ${this.position + at + 1})`), { code: "bad_json" as const });
  }
}

// ---- multipart ----------------------------------------------------------------------------------------------------

/** The boundary of a `multipart/form-data` content type; null when it has none. */
export function multipartBoundary(contentType: string): string | null {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** Index of `needle` in `hay` at or after `from`, or -1. */
function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  const last = hay.length - needle.length;
  for (let i = hay.indexOf(first, from); i >= 0 && i <= last; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export type MultipartFile = { contentType: string | null; filename: string | null };

/**
 * Finds the part named `field` in a multipart/form-data body as it arrives and gives back its bytes (`push(chunk)`),
 * without keeping the body. Other parts are skipped. Errors (`bad_multipart`, `no_file_part`) are thrown as errors
 * with that code.
 */
export class MultipartFileExtractor {
  private readonly delimiter: Uint8Array;
  private buf: Uint8Array = enc.encode("\r\n"); // the first boundary has no line break before it: give it one
  private state: "preamble" | "headers" | "body" | "epilogue" = "preamble";
  private inFile = false;
  private seen = 0;
  file: MultipartFile | null = null;
  /** True once the file part has ended (the rest of the body is skipped). */
  fileDone = false;

  constructor(
    boundary: string,
    private readonly field = "file",
  ) {
    this.delimiter = enc.encode(`\r\n--${boundary}`);
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.seen += chunk.length;
    this.buf = concatBytes(this.buf, chunk);
    for (;;) {
      if (this.state === "epilogue") {
        this.buf = new Uint8Array(0);
        return out;
      }
      if (this.state === "preamble" || this.state === "body") {
        const at = indexOfBytes(this.buf, this.delimiter, 0);
        if (at < 0) {
          // Keep what could be the start of a delimiter.
          const keep = Math.min(this.buf.length, this.delimiter.length - 1);
          const ready = this.buf.subarray(0, this.buf.length - keep);
          if (this.state === "body" && this.inFile && ready.length > 0) out.push(ready);
          if (this.state === "preamble" && this.seen > 64 * 1024) this.bad("no multipart boundary in the first 64 KiB");
          this.buf = this.buf.slice(this.buf.length - keep);
          return out;
        }
        if (this.state === "body" && this.inFile) {
          if (at > 0) out.push(this.buf.subarray(0, at));
          this.inFile = false;
          this.fileDone = true;
        }
        // After the delimiter: `--` (the end) or optional padding and a line break (another part).
        const after = at + this.delimiter.length;
        if (this.buf.length < after + 2) {
          this.buf = this.buf.slice(at);
          this.state = "preamble"; // look for the same delimiter again once more bytes are in
          return out;
        }
        if (this.buf[after] === 45 && this.buf[after + 1] === 45) {
          this.state = "epilogue";
          continue;
        }
        const eol = indexOfBytes(this.buf, enc.encode("\r\n"), after);
        if (eol < 0) {
          if (this.buf.length - after > 1024) this.bad("a boundary line does not end");
          this.buf = this.buf.slice(at);
          this.state = "preamble";
          return out;
        }
        this.buf = this.buf.slice(eol + 2);
        this.state = "headers";
        continue;
      }
      // headers
      const end = indexOfBytes(this.buf, enc.encode("\r\n\r\n"), 0);
      const endsAtOnce = this.buf[0] === 13 && this.buf[1] === 10; // a part without headers
      if (end < 0 && !endsAtOnce) {
        if (this.buf.length > 16 * 1024) this.bad("a part's headers are longer than 16 KiB");
        return out;
      }
      const headerText = endsAtOnce ? "" : latin1.decode(this.buf.subarray(0, end));
      this.buf = this.buf.slice(endsAtOnce ? 2 : end + 4);
      const headers = new Map<string, string>();
      for (const line of headerText.split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const disposition = headers.get("content-disposition") ?? "";
      const name = /(?:^|;)\s*name="([^"]*)"/i.exec(disposition)?.[1] ?? /(?:^|;)\s*name=([^;\s]+)/i.exec(disposition)?.[1] ?? null;
      const filename = /(?:^|;)\s*filename="([^"]*)"/i.exec(disposition)?.[1] ?? null;
      this.inFile = !this.fileDone && this.file === null && name === this.field;
      if (this.inFile) this.file = { contentType: headers.get("content-type") ?? null, filename };
      this.state = "body";
    }
  }

  /** Checks the body had the part (and was closed when the part is still open). */
  end(): void {
    if (this.file === null) this.fail("no_file_part", `the multipart body has no part named "${this.field}": send the list as the "${this.field}" field`);
    if (!this.fileDone) this.bad("the multipart body ends inside the file part");
  }

  private bad(message: string): never {
    this.fail("bad_multipart", message);
  }

  private fail(code: "bad_multipart" | "no_file_part", message: string): never {
    throw Object.assign(new Error(message), { code });
  }
}
