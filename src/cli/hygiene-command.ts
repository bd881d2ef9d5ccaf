// `hygiene FILE [--out FILE] [--max-age 30d] [--default-country RU] [--column C] [--excel]`: the hygiene report of
// POST /v1/reports/hygiene, made against the database directly. The classified CSV goes to --out (standard output
// without it); on a terminal, standard error shows a progress bar (rows, rate, time left). The report stays in the
// database like an uploaded one (its id is printed), so GET /v1/reports/{id} and diffs work on it.
// Exit codes: 0 done; 1 the list cannot be classified (empty, no phone column...); 2 usage, or a file that cannot
// be read or written.
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { loadConfig, type Config } from "../config.js";
import { isPhoneRegion } from "../domain/operators.js";
import { MAX_AGE_PATTERN } from "../domain/verdict.js";
import { HygieneInputError, reportSummary, resultCsv, startHygieneReport, type HygieneFormat } from "../services/hygiene.js";
import { withCliDatabase, type OpenDb } from "./database.js";

export type HygieneIo = {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  openDb?: OpenDb;
  config?: Config;
  now?: () => Date;
};

export const HYGIENE_USAGE =
  "usage: smsc-hub hygiene FILE [--out FILE] [--max-age <n>h|<n>d|<n>w] [--default-country CC] [--column NAME|N] [--excel]\n";

type HygieneArgs = { file: string; out: string | null; maxAge: string | null; defaultCountry: string | null; column: string | null; excel: boolean };

export function parseHygieneArgs(args: readonly string[]): HygieneArgs | { error: string } {
  const parsed: HygieneArgs = { file: "", out: null, maxAge: null, defaultCountry: null, column: null, excel: false };
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    try {
      if (arg === "--out" || arg === "-o") parsed.out = value();
      else if (arg === "--max-age") parsed.maxAge = value();
      else if (arg === "--default-country") parsed.defaultCountry = value().toUpperCase();
      else if (arg === "--column") parsed.column = value();
      else if (arg === "--excel") parsed.excel = true;
      else if (arg.startsWith("-") && arg !== "-") return { error: `unknown option "${arg}"` };
      else files.push(arg);
    } catch (err) {
      return { error: (err as Error).message };
    }
  }
  if (files.length !== 1) return { error: files.length === 0 ? "name the list to classify" : "one list at a time" };
  parsed.file = files[0]!;
  if (parsed.maxAge !== null && !MAX_AGE_PATTERN.test(parsed.maxAge)) return { error: `--max-age takes <n>h, <n>d or <n>w, not "${parsed.maxAge}"` };
  if (parsed.defaultCountry !== null && !isPhoneRegion(parsed.defaultCountry)) {
    return { error: `--default-country takes a two-letter country code the numbering plan knows, not "${parsed.defaultCountry}"` };
  }
  if (parsed.column !== null && parsed.column.trim() === "") return { error: "--column takes a header name or a 1-based number" };
  return parsed;
}

/** The list's format from its name: `.json` is a JSON array, `.txt` one number a line, anything else CSV. */
export function formatOfFile(file: string): HygieneFormat {
  const ext = path.extname(file).toLowerCase();
  return ext === ".json" ? "json" : ext === ".txt" ? "text" : "csv";
}

/** A one-line progress bar on a terminal: how much of the file is read, rows, rows per second, time left. */
export class ProgressBar {
  private last = 0;
  private readonly started: number;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly totalBytes: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.started = now();
  }

  update(rows: number, bytes: number, force = false): void {
    const t = this.now();
    if (!force && t - this.last < 100) return;
    this.last = t;
    const seconds = Math.max(0.001, (t - this.started) / 1000);
    const fraction = this.totalBytes > 0 ? Math.min(1, bytes / this.totalBytes) : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const rate = rows / seconds;
    const left = fraction > 0 ? (seconds * (1 - fraction)) / fraction : null;
    const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%`;
    const text = `${bar} ${rows.toLocaleString("en-US")} rows · ${Math.round(rate).toLocaleString("en-US")} rows/s · ${left === null ? "?" : Math.ceil(left)} s left`;
    this.out.write(`\r${text}\u001b[K`);
  }

  done(rows: number, bytes: number): void {
    this.update(rows, bytes, true);
    this.out.write("\n");
  }
}

export async function runHygiene(args: readonly string[], io: HygieneIo): Promise<number> {
  const parsed = parseHygieneArgs(args);
  if ("error" in parsed) {
    io.stderr.write(`smsc-hub hygiene: ${parsed.error}\n${HYGIENE_USAGE}`);
    return 2;
  }
  let size: number;
  try {
    const stat = fs.statSync(parsed.file);
    if (!stat.isFile()) throw Object.assign(new Error("not a file"), { code: "EISDIR" });
    fs.accessSync(parsed.file, fs.constants.R_OK);
    size = stat.size;
  } catch (err) {
    io.stderr.write(`smsc-hub hygiene: cannot read ${parsed.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return 2;
  }
  if (parsed.out !== null) {
    // Checked before the work, so that an unwritable path fails at once (and an existing file is kept if the work fails).
    try {
      if (fs.existsSync(parsed.out)) fs.accessSync(parsed.out, fs.constants.W_OK);
      else fs.accessSync(path.dirname(path.resolve(parsed.out)), fs.constants.W_OK);
      if (fs.existsSync(parsed.out) && !fs.statSync(parsed.out).isFile()) throw Object.assign(new Error("not a file"), { code: "EISDIR" });
    } catch (err) {
      io.stderr.write(`smsc-hub hygiene: cannot write ${parsed.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
      return 2;
    }
  }
  let out: fs.WriteStream | null = null;
  const config = io.config ?? loadConfig();
  const clock = io.now ?? (() => new Date());
  try {
    return await withCliDatabase(
      io.stderr,
      async (db) => {
        const bar = io.stderr.isTTY ? new ProgressBar(io.stderr, size) : null;
        let rowsDone = 0;
        let started;
        try {
          started = await startHygieneReport(
            { db, clock, maxRows: config.hygieneMaxRows, retentionDays: config.reportRetentionDays },
            {
              kind: formatOfFile(parsed.file),
              body: fs.createReadStream(parsed.file, { highWaterMark: 256 * 1024 }),
              options: { column: parsed.column, defaultCountry: parsed.defaultCountry ?? config.defaultCountry, maxAge: parsed.maxAge },
            },
            {
              answerAfterRows: Number.POSITIVE_INFINITY,
              onProgress: (p) => {
                rowsDone = p.rowsDone;
                bar?.update(p.rowsDone, p.bytesRead);
              },
            },
          );
        } catch (err) {
          if (bar) io.stderr.write("\n");
          if (err instanceof HygieneInputError) {
            io.stderr.write(`smsc-hub hygiene: ${parsed.file}: ${err.code}: ${err.message}\n`);
            return 1;
          }
          throw err;
        }
        bar?.done(rowsDone, size);
        if (parsed.out !== null) {
          out = fs.createWriteStream(parsed.out);
          await once(out, "open");
        }
        const target = out ?? io.stdout;
        for await (const chunk of resultCsv(db, started.report, { excel: parsed.excel })) {
          if (!target.write(chunk)) await once(target, "drain");
        }
        if (out) {
          out.end();
          await once(out, "finish");
          out = null;
        }
        const s = reportSummary(started.report);
        if (s) {
          io.stderr.write(
            `report ${started.report.id}: ${s.rows} rows; keep ${s.byAction.keep}, drop ${s.byAction.drop}, recheck ${s.byAction.recheck} ` +
              `(${s.duplicates} duplicates, ${s.malformed} malformed, ${s.optedOut} opted out)\n`,
          );
        }
        return 0;
      },
      io.openDb,
    );
  } finally {
    (out as fs.WriteStream | null)?.destroy();
  }
}
