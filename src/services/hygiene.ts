// Number-list hygiene reports: the flow from an uploaded list to a classified result.
//
// The upload is read as it arrives (never buffered whole): its first 64 KiB decide the encoding, its first rows the
// delimiter, the header row and the phone column; then each batch of rows is normalised, looked up in bulk
// (findNumberVerdicts: a few statements per batch, whatever its size), and stored with one statement that also
// resolves duplicates against the rows stored before it and moves the report's progress. The lookup of one batch
// runs while the batch before it is being stored.
//
// The caller gets its answer (`startHygieneReport`) as soon as it can be given: a finished report for a list of at
// most `answerAfterRows` rows, else a running report as soon as the list is known to be longer; the rest of the
// upload and its classification go on in the background (tracked by HygieneJobs, so a stop can wait for them). A
// problem found before the answer is thrown (HygieneInputError) and leaves nothing behind; one found later ends
// the report `failed` with the reason, and its rows are removed.
import { randomBytes } from "node:crypto";
import { stringify } from "csv-stringify/sync";
import type { Database, Sql } from "../db/client.js";
import {
  deleteExpiredHygieneReports,
  deleteHygieneReport,
  failHygieneReport,
  failStaleHygieneReports,
  findHygieneReport,
  finishHygieneReport,
  insertClassifiedRows,
  insertHygieneReport,
  listHygieneChanges,
  listHygieneResultRows,
  type HygieneResultRow,
  listHygieneJsonRows,
  listRecheckPhones,
  resolveHygieneDuplicates,
  touchHygieneReport,
  type ClassifiedRow,
  type HygieneChange,
  type StoredHygieneReport,
} from "../db/queries/hygiene.js";
import { findNumberVerdicts } from "../db/queries/verdicts.js";
import { dropAbandonedImportLines } from "../db/queries/import-lines.js";
import { csvLine, neutralizeCell } from "../http/csv.js";
import {
  CsvRecordReader,
  decideAction,
  detectDelimiter,
  detectLayout,
  formatFailure,
  HYGIENE_PROBLEMS,
  isBlankRecord,
  JsonStringArrayReader,
  MultipartFileExtractor,
  type JsonItem,
  parseColumnOption,
  resultColumnNames,
  sniffEncoding,
  SNIFF_BYTES,
  SummaryCounter,
  type Delimiter,
  type SummaryGroup,
  type HygieneProblemCode,
  type Summary,
  type UploadEncoding,
} from "../domain/hygiene.js";
import { splitLines } from "../domain/lines.js";
import { normalizePhone, type NormalizedPhone } from "../domain/phone.js";
import { parseMaxAge, VERDICTS, type NumberVerdict, type Verdict } from "../domain/verdict.js";

// ---- limits -------------------------------------------------------------------------------------------------------

/** Lists up to this many rows are answered finished (201); longer ones as running (202) once they pass it. */
export const HYGIENE_ANSWER_ROWS = 10_000;
/** Rows per batch: one verdict lookup and one insert statement each. */
export const HYGIENE_BATCH_ROWS = 5_000;
/** Batches being looked up or stored at once (each on a connection of its own). */
const IN_FLIGHT = 3;
/** The first rows that decide the delimiter, the header and the phone column. */
export const SAMPLE_ROWS = 1_000;
/** A line longer than this is a malformed row. */
export const MAX_LINE_BYTES = 64 * 1024;
/** The whole upload must arrive within this time (1,000,000 rows are ~30 MB: this allows ~20 KB/s). */
export const HYGIENE_UPLOAD_TIMEOUT_MS = 30 * 60_000;
/** ...and no pause between two pieces of it may be longer than this. */
export const HYGIENE_IDLE_TIMEOUT_MS = 2 * 60_000;
/** A running report's updated_at moves at least this often (progress, else a heartbeat)... */
export const HEARTBEAT_MS = 30_000;
/** ...so one that has not moved for this long was left by a process that died. */
export const STALE_REPORT_MS = 5 * 60_000;
/** How often the retention sweep runs. */
export const SWEEP_INTERVAL_MS = 10 * 60_000;
/** Rows per page when a result is read back. */
const PAGE_ROWS = 5_000;

// ---- types --------------------------------------------------------------------------------------------------------

export type HygieneFormat = "csv" | "text" | "json";

export type HygieneOptions = {
  /** The phone column: a header name or a 1-based index; null: found by header or content. */
  column: string | null;
  defaultCountry: string;
  /** `<n>h`, `<n>d` or `<n>w`; null: all evidence counts. */
  maxAge: string | null;
};

export type ByteStream = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export type HygieneUpload = {
  /** The body's format, or `multipart` with its boundary (the `file` part's type or name says the format). */
  kind: HygieneFormat | { multipart: string };
  body: ByteStream;
  options: HygieneOptions;
  /** The id of the API key uploading the list (null: an admin, or the command line): only it and admins read the report. */
  ownerKeyId?: string | null;
};

/** How the input was read (stored in the report's `input`). */
export type ReportInput = {
  format: HygieneFormat;
  encoding: UploadEncoding;
  delimiter: Delimiter | null;
  header: boolean;
  /** 1-based. */
  phoneColumn: number;
  /** The input's column names (the header's cells, else generated), then the result's. */
  columns: string[];
  resultColumns: string[];
  file: { filename: string | null; contentType: string | null } | null;
};

export type HygieneDeps = {
  db: Database;
  clock: () => Date;
  maxRows: number;
  retentionDays: number;
  jobs?: HygieneJobs | undefined;
  /** Errors of background work that nobody awaits (the report records them too). */
  onError?: ((err: unknown, reportId: string) => void) | undefined;
  uploadTimeoutMs?: number;
  idleTimeoutMs?: number;
};

export type StartOptions = {
  /** Answer finished up to this many rows, else running (default HYGIENE_ANSWER_ROWS; Infinity: always finished). */
  answerAfterRows?: number;
  /** After each stored batch: rows stored and bytes read so far. */
  onProgress?: (p: { rowsDone: number; bytesRead: number }) => void;
};

export type StartedReport =
  | { state: "done"; report: StoredHygieneReport }
  | {
      state: "running";
      report: StoredHygieneReport;
      /** Settles once the upload has been read to its end (or given up on). */
      uploaded: Promise<void>;
      /** Settles once the report is done or failed. */
      finished: Promise<void>;
    };

/** A problem with the upload as a whole: answered as problem+json before the answer, else the report's failure. */
export class HygieneInputError extends Error {
  override name = "HygieneInputError";
  constructor(
    readonly code: HygieneProblemCode,
    message: string,
  ) {
    super(message);
  }
  get status(): number {
    return HYGIENE_PROBLEMS[this.code].status;
  }
  get field(): string {
    return HYGIENE_PROBLEMS[this.code].field;
  }
  get title(): string {
    return HYGIENE_PROBLEMS[this.code].title;
  }
}

const asInputError = (err: unknown): HygieneInputError | null => {
  if (err instanceof HygieneInputError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code in HYGIENE_PROBLEMS && err instanceof Error) return new HygieneInputError(code as HygieneProblemCode, err.message);
  return null;
};

// ---- background jobs ----------------------------------------------------------------------------------------------

/** The reports being uploaded or classified in this process, so that a stop can wait for them (or end them). */
export class HygieneJobs {
  private readonly running = new Set<Promise<unknown>>();
  private readonly controller = new AbortController();

  /** Aborted when the process stops: running reports end as failed ("interrupted"). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get size(): number {
    return this.running.size;
  }

  track(job: Promise<unknown>): void {
    const settled = job.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
  }

  /** Waits up to `graceMs` for running reports; then ends the rest as failed and waits (up to `graceMs` more) for that. */
  async stop(graceMs: number): Promise<void> {
    const all = () => Promise.all([...this.running]);
    const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
    if (this.running.size > 0) await Promise.race([all(), timer(graceMs)]);
    this.controller.abort();
    if (this.running.size > 0) await Promise.race([all(), timer(graceMs)]);
  }
}

// ---- reading the upload -------------------------------------------------------------------------------------------

/** The request body, read piece by piece with the upload's timeouts; it counts the bytes read. */
class BodyReader {
  bytes = 0;
  private done = false;
  private failure: HygieneInputError | null = null;
  private readonly next: () => Promise<IteratorResult<Uint8Array>>;
  private readonly cancelBody: () => Promise<unknown>;
  private readonly deadline: number | null;

  constructor(
    body: ByteStream,
    private readonly timeouts: { totalMs: number; idleMs: number } | null,
  ) {
    if (body instanceof ReadableStream) {
      const reader = body.getReader();
      this.next = () => reader.read() as Promise<IteratorResult<Uint8Array>>;
      this.cancelBody = () => reader.cancel().catch(() => {});
    } else {
      const it = body[Symbol.asyncIterator]();
      this.next = () => it.next();
      this.cancelBody = async () => {
        await it.return?.();
      };
    }
    this.deadline = timeouts ? Date.now() + timeouts.totalMs : null;
  }

  async read(): Promise<Uint8Array | null> {
    if (this.failure) throw this.failure;
    if (this.done) return null;
    let result: IteratorResult<Uint8Array>;
    try {
      result = await this.withTimeout(this.next());
      if (this.failure) throw this.failure;
    } catch (err) {
      this.done = true;
      if (err instanceof HygieneInputError) {
        await this.cancelBody();
        throw err;
      }
      throw new HygieneInputError("upload_aborted", `the upload stopped before its end (${(err as Error)?.message ?? "connection closed"})`);
    }
    if (result.done) {
      this.done = true;
      return null;
    }
    this.bytes += result.value.length;
    return result.value;
  }

  /** Reads the rest and throws it away (so the client can finish sending), within the upload's time. */
  async drain(): Promise<void> {
    try {
      while ((await this.read()) !== null);
    } catch {
      // gone or timed out: nothing more to read
    }
  }

  /** Stops reading: a read waiting for the body, and every later one, throws `err`. */
  fail(err: HygieneInputError): void {
    if (this.done) return;
    this.failure = err;
    void this.cancelBody();
  }

  private withTimeout<T>(p: Promise<T>): Promise<T> {
    if (!this.timeouts || this.deadline === null) return p;
    const left = this.deadline - Date.now();
    const totalBinds = left < this.timeouts.idleMs;
    const ms = Math.max(0, Math.min(left, this.timeouts.idleMs));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const minutes = (n: number) => `${Math.round(n / 60_000)} min`;
        reject(
          new HygieneInputError(
            "upload_timeout",
            totalBinds
              ? `the upload took longer than ${minutes(this.timeouts!.totalMs)}`
              : `nothing arrived for ${minutes(this.timeouts!.idleMs)}; the upload was given up`,
          ),
        );
      }, ms);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}

async function* readAll(reader: BodyReader): AsyncGenerator<Uint8Array> {
  for (let c = await reader.read(); c !== null; c = await reader.read()) if (c.length > 0) yield c;
}

async function* multipartFileBytes(src: AsyncIterable<Uint8Array>, extractor: MultipartFileExtractor): AsyncGenerator<Uint8Array> {
  for await (const chunk of src) for (const part of extractor.push(chunk)) if (part.length > 0) yield part;
  extractor.end();
}

/** The first SNIFF_BYTES decide the encoding; gives back the same bytes, whole, as a stream again. */
async function sniff(src: AsyncIterator<Uint8Array>): Promise<{ encoding: UploadEncoding; bytes: AsyncGenerator<Uint8Array>; empty: boolean }> {
  const head: Uint8Array[] = [];
  let size = 0;
  let ended = false;
  while (size < SNIFF_BYTES) {
    const r = await src.next();
    if (r.done) {
      ended = true;
      break;
    }
    head.push(r.value);
    size += r.value.length;
  }
  const sample = new Uint8Array(size);
  let at = 0;
  for (const h of head) {
    sample.set(h, at);
    at += h.length;
  }
  const sniffed = sniffEncoding(sample.subarray(0, SNIFF_BYTES));
  if (!sniffed.ok) throw new HygieneInputError("bad_encoding", sniffed.error.message);
  async function* bytes(): AsyncGenerator<Uint8Array> {
    if (sample.length > 0) yield sample;
    if (ended) return;
    for (let r = await src.next(); !r.done; r = await src.next()) yield r.value;
  }
  return { encoding: sniffed.value, bytes: bytes(), empty: sample.length === 0 };
}

/** One record of the list: its cells, or why it cannot be read. */
type RawRecord = { cells: string[]; error: string | null };

type ReadInfo = { delimiter: Delimiter | null };

const NUL_MESSAGE = "the body has NUL bytes: it is binary or UTF-16, not UTF-8 or windows-1251 text";

async function* lineRecords(bytes: AsyncIterable<Uint8Array>, format: "csv" | "text", info: ReadInfo): AsyncGenerator<RawRecord> {
  const lines = splitLines(bytes, MAX_LINE_BYTES);
  const tooLong = (n: number): RawRecord => ({ cells: [""], error: `line_too_long: the line has ${n} bytes; at most ${MAX_LINE_BYTES}` });
  if (format === "text") {
    for await (const line of lines) {
      if (!line.ok) {
        yield tooLong(line.bytes);
        continue;
      }
      if (line.text.includes("\u0000")) throw new HygieneInputError("bad_encoding", NUL_MESSAGE);
      if (line.text.trim() !== "") yield { cells: [line.text], error: null };
    }
    return;
  }
  // CSV: the first lines decide the delimiter.
  const head: ({ ok: true; text: string } | { ok: false; bytes: number })[] = [];
  const it = lines[Symbol.asyncIterator]();
  let nonBlank = 0;
  while (nonBlank < SAMPLE_ROWS) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    if (r.value.ok && r.value.text.trim() !== "") nonBlank++;
  }
  info.delimiter = detectDelimiter(head.flatMap((l) => (l.ok ? [l.text] : [])));
  const reader = new CsvRecordReader(info.delimiter ?? ",");
  async function* rest(): AsyncGenerator<{ ok: true; text: string } | { ok: false; bytes: number }> {
    yield* head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  for await (const line of rest()) {
    if (!line.ok) {
      const open = reader.end();
      if (open) yield { cells: open.cells, error: `bad_row: ${open.error ?? "the row is cut by a line that is too long"}` };
      yield tooLong(line.bytes);
      continue;
    }
    if (line.text.includes("\u0000")) throw new HygieneInputError("bad_encoding", NUL_MESSAGE);
    const record = reader.push(line.text);
    if (record === null) continue;
    if (record.error !== null) yield { cells: record.cells, error: `bad_row: ${record.error}` };
    else if (!isBlankRecord(record.cells)) yield { cells: record.cells, error: null };
  }
  const last = reader.end();
  if (last && (last.error !== null || !isBlankRecord(last.cells))) yield { cells: last.cells, error: last.error === null ? null : `bad_row: ${last.error}` };
}

async function* jsonRecords(bytes: AsyncIterable<Uint8Array>, encoding: UploadEncoding): AsyncGenerator<RawRecord> {
  const decoder = new TextDecoder(encoding === "windows-1251" ? "windows-1251" : "utf-8");
  const reader = new JsonStringArrayReader();
  // A lone surrogate (a \uD800 escape) cannot be stored as text: it becomes U+FFFD.
  const records = (items: JsonItem[]) => items.map((i) => ({ cells: [i.value.toWellFormed()], error: i.error === null ? null : `bad_value: ${i.error}` }));
  for await (const chunk of bytes) yield* records(reader.push(decoder.decode(chunk, { stream: true })));
  yield* records(reader.push(decoder.decode()));
  yield* records(reader.end());
}

/** The format of a multipart `file` part: by its content type, else its file name; CSV when neither says. */
function fileFormat(file: { contentType: string | null; filename: string | null } | null): HygieneFormat {
  const type = (file?.contentType ?? "").split(";")[0]!.trim().toLowerCase();
  const name = (file?.filename ?? "").toLowerCase();
  if (type === "application/json" || name.endsWith(".json")) return "json";
  if (type === "text/plain" && !name.endsWith(".csv")) return "text";
  return "csv";
}

// ---- classification -----------------------------------------------------------------------------------------------

type PendingRow = { rowNo: number; cells: string[]; normalized: NormalizedPhone | null; phoneError: string | null };

/** The row as it goes into the database: its verdict, and its action before duplicates are known. */
function classifyRow(row: PendingRow, v: NumberVerdict | undefined): ClassifiedRow {
  const verdict = (v?.verdict ?? null) as Verdict | null;
  return {
    rowNo: row.rowNo,
    cells: row.cells,
    phone: row.normalized?.phone ?? null,
    phoneError: row.phoneError,
    verdict,
    reason: v?.reason ?? null,
    evidenceAt: v?.evidence[0]?.at ?? null,
    operator: v ? (v.operator.name ?? v.operator.id) : null,
    country: v?.country.iso ?? null,
    roaming: v?.roaming.active ?? null,
    optedOut: v ? v.optedOut : null,
    action: decideAction({ phoneError: row.phoneError, duplicateOf: null, verdict, optedOut: v?.optedOut ?? false }),
  };
}

function summaryGroupOf(c: ClassifiedRow): SummaryGroup {
  return {
    verdict: c.verdict,
    action: c.action,
    operator: c.operator,
    country: c.country,
    malformed: c.phoneError !== null,
    optedOut: c.optedOut === true,
    rows: 1,
  };
}

/** Postgres text cannot hold NUL: such a cell is kept without it, and the row is malformed. */
function cleanCells(cells: string[]): { cells: string[]; nul: boolean } {
  let nul = false;
  for (const c of cells) if (c.includes("\u0000")) nul = true;
  return nul ? { cells: cells.map((c) => c.replaceAll("\u0000", "")), nul } : { cells, nul };
}

const newReportId = () => `rep_${randomBytes(10).toString("hex")}`;

/**
 * Reads an upload into a new report. Resolves with the answer (finished, or running for a long list); throws
 * HygieneInputError for a problem found before that.
 */
export function startHygieneReport(deps: HygieneDeps, upload: HygieneUpload, options: StartOptions = {}): Promise<StartedReport> {
  const answerAfter = options.answerAfterRows ?? HYGIENE_ANSWER_ROWS;
  const { db } = deps;
  const now = deps.clock();
  const maxAgeMs = upload.options.maxAge === null ? null : parseMaxAge(upload.options.maxAge);
  const column = upload.options.column === null ? null : parseColumnOption(upload.options.column);
  // An HTTP body has the upload's timeouts; a file read by the command line needs none.
  const timed = upload.body instanceof ReadableStream || deps.uploadTimeoutMs !== undefined || deps.idleTimeoutMs !== undefined;
  const reader = new BodyReader(
    upload.body,
    timed ? { totalMs: deps.uploadTimeoutMs ?? HYGIENE_UPLOAD_TIMEOUT_MS, idleMs: deps.idleTimeoutMs ?? HYGIENE_IDLE_TIMEOUT_MS } : null,
  );
  const signal = deps.jobs?.signal;
  const onAbort = () => reader.fail(new HygieneInputError("interrupted", "the service stopped before the report was finished"));
  signal?.addEventListener("abort", onAbort, { once: true });

  let answered = false;
  let settle!: { resolve: (r: StartedReport) => void; reject: (e: unknown) => void };
  const answer = new Promise<StartedReport>((resolve, reject) => (settle = { resolve, reject }));
  let markUploaded!: () => void;
  const uploaded = new Promise<void>((resolve) => (markUploaded = resolve));

  let reportId: string | null = null;
  let heartbeat: NodeJS.Timeout | undefined;
  /** Batches being looked up or stored. */
  const inFlight: Promise<void>[] = [];

  const run = async (finished: Promise<void>): Promise<void> => {
    try {
      // The bytes of the list, and its format.
      let bytes: AsyncIterable<Uint8Array> = readAll(reader);
      let extractor: MultipartFileExtractor | null = null;
      if (typeof upload.kind !== "string") {
        extractor = new MultipartFileExtractor(upload.kind.multipart);
        bytes = multipartFileBytes(bytes, extractor);
      }
      const sniffed = await sniff(bytes[Symbol.asyncIterator]());
      if (sniffed.empty) throw new HygieneInputError("empty_body", extractor ? "the file is empty" : "the body is empty: send the list");
      const format: HygieneFormat = typeof upload.kind === "string" ? upload.kind : fileFormat(extractor!.file);
      const info: ReadInfo = { delimiter: null };
      const records = format === "json" ? jsonRecords(sniffed.bytes, sniffed.encoding) : lineRecords(sniffed.bytes, format, info);
      const it = records[Symbol.asyncIterator]();

      // The first rows decide the header and the phone column.
      const sample: RawRecord[] = [];
      while (sample.length < SAMPLE_ROWS) {
        const r = await it.next();
        if (r.done) break;
        sample.push(r.value);
      }
      if (sample.length === 0) throw new HygieneInputError("empty_body", "the list has no rows (only blank lines)");
      const detected = detectLayout(
        sample.map((r) => r.cells),
        format === "csv" ? column : column && "index" in column && column.index === 1 ? null : column,
        { header: format === "csv" ? "detect" : format === "text" ? "by-name" : "none" },
      );
      if (!detected.ok) throw new HygieneInputError(detected.error.code as HygieneProblemCode, detected.error.message);
      const layout = detected.value;
      const input: ReportInput = {
        format,
        encoding: sniffed.encoding,
        delimiter: format === "csv" ? info.delimiter : null,
        header: layout.header,
        phoneColumn: layout.phoneColumn + 1,
        columns: [...layout.columns],
        resultColumns: resultColumnNames(layout.columns),
        file: extractor ? { filename: extractor.file?.filename ?? null, contentType: extractor.file?.contentType ?? null } : null,
      };

      const id = newReportId();
      await insertHygieneReport(db, {
        id,
        options: upload.options,
        input,
        createdAt: now,
        expiresAt: new Date(now.getTime() + deps.retentionDays * 86_400_000),
        ownerKeyId: upload.ownerKeyId ?? null,
      });
      reportId = id;
      heartbeat = setInterval(() => void touchHygieneReport(db, id, deps.clock()).catch(() => {}), HEARTBEAT_MS);
      heartbeat.unref();

      // Rows in batches, each looked up and stored on its own (IN_FLIGHT at once), while the upload is read on.
      const counter = new SummaryCounter();
      let rowsDone = 0;
      const flush = async (rows: PendingRow[]) => {
        if (rows.length === 0) return;
        const unique = new Map<string, NormalizedPhone>();
        for (const r of rows) if (r.normalized && !unique.has(r.normalized.phone)) unique.set(r.normalized.phone, r.normalized);
        const step = (async () => {
          const verdicts = await findNumberVerdicts(db, [...unique.values()], { now, maxAgeMs });
          const byPhone = new Map(verdicts.map((v) => [v.phone, v]));
          const classified = rows.map((r) => classifyRow(r, r.normalized ? byPhone.get(r.normalized.phone) : undefined));
          await insertClassifiedRows(db, id, classified, deps.clock());
          for (const c of classified) counter.add(summaryGroupOf(c));
          rowsDone += rows.length;
          options.onProgress?.({ rowsDone, bytesRead: reader.bytes });
        })();
        step.catch(() => {});
        inFlight.push(step);
        while (inFlight.length >= IN_FLIGHT) await inFlight.shift();
      };

      let rowNo = 0;
      let width = layout.columns.length;
      let batch: PendingRow[] = [];
      let headerSkipped = !layout.header;
      const defaultCountry = upload.options.defaultCountry;
      const take = async (record: RawRecord) => {
        if (!headerSkipped) {
          headerSkipped = true;
          return;
        }
        rowNo++;
        if (rowNo > deps.maxRows) {
          throw new HygieneInputError("too_many_rows", `the list has more than ${deps.maxRows} rows (HYGIENE_MAX_ROWS)`);
        }
        const { cells, nul } = cleanCells(record.cells);
        if (cells.length > width) width = cells.length;
        let normalized: NormalizedPhone | null = null;
        let phoneError = record.error ?? (nul ? "bad_row: the row has NUL characters" : null);
        if (phoneError === null) {
          const value = cells[layout.phoneColumn];
          if (value === undefined) {
            phoneError = `no_phone: the row has ${cells.length} column${cells.length === 1 ? "" : "s"}; the phone is in column ${layout.phoneColumn + 1}`;
          } else {
            const n = normalizePhone(value, defaultCountry);
            if (n.ok) normalized = n.value;
            else phoneError = `${n.error.code}: ${n.error.message}`;
          }
        }
        batch.push({ rowNo, cells, normalized, phoneError });
        if (batch.length >= HYGIENE_BATCH_ROWS) {
          const full = batch;
          batch = [];
          await flush(full);
          if (signal?.aborted) throw new HygieneInputError("interrupted", "the service stopped before the report was finished");
        }
        if (!answered && rowNo > answerAfter) {
          answered = true;
          const report = await findHygieneReport(db, id);
          settle.resolve({ state: "running", report: report!, uploaded, finished });
        }
      };
      for (const r of sample) await take(r);
      for (let r = await it.next(); !r.done; r = await it.next()) await take(r.value);
      if (rowNo === 0) throw new HygieneInputError("empty_body", "the list has a header row and no data rows");
      markUploaded();
      await flush(batch);
      for (const step of inFlight) await step;
      // Every row is stored: duplicates are resolved in one statement.
      counter.addDuplicates(await resolveHygieneDuplicates(db, id));
      for (let i = layout.columns.length; i < width; i++) input.columns.push(`column_${i + 1}`);
      input.resultColumns = resultColumnNames(input.columns);
      await finishHygieneReport(db, id, { totalRows: rowNo, input, summary: counter.summary(VERDICTS), now: deps.clock() });
      if (!answered) {
        answered = true;
        settle.resolve({ state: "done", report: (await findHygieneReport(db, id))! });
      }
    } catch (err) {
      const problem = asInputError(err);
      // Nothing may be stored after the report is removed or failed.
      await Promise.allSettled(inFlight);
      if (!answered) {
        answered = true;
        if (reportId !== null) await deleteHygieneReport(db, reportId).catch(() => {});
        settle.reject(problem ?? err);
      } else if (reportId !== null) {
        const failure = problem
          ? { code: problem.code, message: problem.message }
          : { code: "internal" as const, message: "the report could not be finished; it has been logged" };
        if (!problem) deps.onError?.(err, reportId);
        await failHygieneReport(db, reportId, formatFailure(failure), deps.clock()).catch((e: unknown) => deps.onError?.(e, reportId!));
        // Let the client finish sending (within the upload's time), so that it reads its answer.
        await reader.drain();
      }
    } finally {
      clearInterval(heartbeat);
      signal?.removeEventListener("abort", onAbort);
      markUploaded();
    }
  };

  let finishedResolve!: () => void;
  const finished = new Promise<void>((resolve) => (finishedResolve = resolve));
  const job = run(finished).finally(finishedResolve);
  deps.jobs?.track(job);
  return answer;
}

// ---- reading a report back ----------------------------------------------------------------------------------------

export function reportInput(report: StoredHygieneReport): ReportInput | null {
  return (report.input as ReportInput | null) ?? null;
}

export function reportSummary(report: StoredHygieneReport): Summary | null {
  return (report.summary as Summary | null) ?? null;
}

/** The windows of row numbers a report is read in: (after, after + PAGE_ROWS] up to its last row. */
function* windows(report: StoredHygieneReport): Generator<number> {
  for (let after = 0; after < (report.totalRows ?? 0); after += PAGE_ROWS) yield after;
}

/**
 * Pages of a done report's result rows (CSV lines or JSON objects), in input order. A done report's rows
 * are numbered 1..total without gaps, so the next pages are read while one is sent.
 */
async function* resultPages(report: StoredHygieneReport, read: (after: number) => Promise<string[]>): AsyncGenerator<string[]> {
  const pending: Promise<string[]>[] = [];
  const next = windows(report);
  const readAhead = () => {
    while (pending.length < 2) {
      const w = next.next();
      if (w.done) return;
      const page = read(w.value);
      page.catch(() => {});
      pending.push(page);
    }
  };
  readAhead();
  while (pending.length > 0) {
    const page = await pending.shift()!;
    readAhead();
    if (page.length > 0) yield page;
  }
}

/**
 * The result as CSV, a page at a time: every uploaded column as it was, then the result columns. `excel`: UTF-8 with
 * BOM, `;` and CRLF. A cell a spreadsheet would run as a formula gets a leading `'` (as in every CSV this service
 * writes).
 */
export async function* resultCsv(db: Sql, report: StoredHygieneReport, options: { excel: boolean }): AsyncGenerator<string> {
  const input = reportInput(report)!;
  const delimiter = options.excel ? ";" : ",";
  const eol = options.excel ? "\r\n" : "\n";
  const header = [...input.columns, ...input.resultColumns].map((c) => neutralizeCell(c) as string);
  yield (options.excel ? "\ufeff" : "") + stringify([header], { delimiter, record_delimiter: eol });
  const width = input.columns.length;
  const read = async (after: number) =>
    (await listHygieneResultRows(db, report.id, { after, limit: PAGE_ROWS })).map((row) => csvLine(resultCells(row, width), delimiter));
  for await (const lines of resultPages(report, read)) yield lines.join(eol) + eol;
}

/** A result row's CSV cells: the first `width` uploaded cells (padded with empty ones), then the result columns. */
function resultCells(row: HygieneResultRow, width: number): string[] {
  const [cells, phone, phoneError, duplicateOf, verdict, reason, evidenceAt, operator, country, roaming, optedOut, action] = row;
  const out = cells.length > width ? cells.slice(0, width) : cells;
  while (out.length < width) out.push("");
  const bool = (b: boolean | null) => (b === null ? "" : b ? "true" : "false");
  out.push(
    phone === null ? "" : `+${phone}`,
    phoneError ?? "",
    duplicateOf === null ? "" : String(duplicateOf),
    verdict ?? "",
    reason ?? "",
    evidenceAt === null ? "" : new Date(evidenceAt).toISOString(),
    operator ?? "",
    country ?? "",
    bool(roaming),
    bool(optedOut),
    action ?? "",
  );
  return out;
}

/** The result as JSON (`{report_id, columns, items}`), a page at a time; the database writes the items. */
export async function* resultJson(db: Sql, report: StoredHygieneReport): AsyncGenerator<string> {
  const input = reportInput(report)!;
  yield `{"report_id":${JSON.stringify(report.id)},"columns":${JSON.stringify(input.columns)},"items":[`;
  let first = true;
  for await (const items of resultPages(report, (after) => listHygieneJsonRows(db, report.id, { after, limit: PAGE_ROWS }))) {
    yield (first ? "" : ",") + items.join(",");
    first = false;
  }
  yield "]}";
}

export type RecheckOptions = { batchSize: number };

/** The numbers to check again, digits only, `batchSize` per line, comma-separated. */
export async function* recheckLines(db: Sql, report: StoredHygieneReport, options: RecheckOptions): AsyncGenerator<string> {
  let line: string[] = [];
  let out = "";
  for (const after of windows(report)) {
    for (const phone of await listRecheckPhones(db, report.id, after, PAGE_ROWS)) {
      line.push(phone);
      if (line.length >= options.batchSize) {
        out += `${line.join(",")}\n`;
        line = [];
      }
    }
    if (out !== "") {
      yield out;
      out = "";
    }
  }
  if (line.length > 0) yield `${line.join(",")}\n`;
}

/** Pages of the numbers whose verdict or action changed from report `against` to `report`. */
export async function* reportChanges(db: Sql, report: StoredHygieneReport, against: string): AsyncGenerator<HygieneChange[]> {
  for (const after of windows(report)) {
    const page = await listHygieneChanges(db, report.id, against, after, PAGE_ROWS);
    if (page.length > 0) yield page;
  }
}

// ---- maintenance --------------------------------------------------------------------------------------------------

export type SweepResult = { interrupted: string[]; expired: number; abandonedImportLines: number };

/**
 * An import's staged lines older than this belong to an import whose process died. Lines are staged only while the
 * body arrives, which the server cuts off after HYGIENE_UPLOAD_TIMEOUT_MS (its requestTimeout), and matched in
 * minutes after that: a day is far beyond any live import.
 */
export const ABANDONED_IMPORT_MS = 24 * 3_600_000;

/**
 * Housekeeping of what uploads leave behind: ends hygiene reports left running by a process that died, removes
 * reports past their retention, and removes the staged lines of receipt imports that never finished.
 */
export async function sweepUploads(db: Sql, now: Date): Promise<SweepResult> {
  const interrupted = await failStaleHygieneReports(
    db,
    new Date(now.getTime() - STALE_REPORT_MS),
    formatFailure({ code: "interrupted", message: "the process working on the report stopped before it was finished; upload the list again" }),
    now,
  );
  const expired = await deleteExpiredHygieneReports(db, now);
  const abandonedImportLines = await dropAbandonedImportLines(db, new Date(now.getTime() - ABANDONED_IMPORT_MS));
  return { interrupted, expired, abandonedImportLines };
}

/** Sweeps now and every SWEEP_INTERVAL_MS. */
export function startUploadSweeps(
  db: Sql,
  options: { clock: () => Date; onSweep?: (r: SweepResult) => void; onError?: (err: unknown) => void; intervalMs?: number },
): { first: Promise<void>; stop: () => void } {
  const sweep = () =>
    sweepUploads(db, options.clock()).then(
      (r) => options.onSweep?.(r),
      (err: unknown) => options.onError?.(err),
    );
  const first = sweep();
  const timer = setInterval(() => void sweep(), options.intervalMs ?? SWEEP_INTERVAL_MS);
  timer.unref();
  return { first, stop: () => clearInterval(timer) };
}
