// `smsc-hub parse [file...]`: reads status lines (from the files in order, or standard input when none is
// named; `-` also names standard input) and writes one JSON object per input line, in order, on standard
// output: `{"ok":true, ...record}` or `{"ok":false,"error":{"code","message"}}`. Exit codes: 0 when the
// input could be read, whatever the lines held; 2 when a file cannot be read (every file is checked before
// anything is written); 1 when standard output fails (0 when the reader went away: EPIPE).

import { once } from "node:events";
import { constants, createReadStream } from "node:fs";
import { access, stat } from "node:fs/promises";
import { splitLines } from "../domain/lines.js";
import { parseStatusString, type StatusRecord } from "../domain/status-string.js";

export type ParseIo = {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
};

/** A status record as the CLI (and any JSON edge) writes it: snake_case keys. */
export type StatusRecordJson = Omit<StatusRecord, "submitDate" | "doneDate"> & { submit_date: string | null; done_date: string | null };

/** Maps the domain record to its JSON shape; the one place where camelCase becomes snake_case. */
export function statusRecordToJson(record: StatusRecord): StatusRecordJson {
  return {
    id: record.id,
    stat: record.stat,
    err: record.err,
    submit_date: record.submitDate,
    done_date: record.doneDate,
    sub: record.sub,
    dlvrd: record.dlvrd,
    text: record.text,
    imsi: record.imsi,
    msc: record.msc,
    mcc: record.mcc,
    mnc: record.mnc,
    cn: record.cn,
    net: record.net,
    rcn: record.rcn,
    rnet: record.rnet,
    roaming: record.roaming,
    extra: record.extra,
  };
}

/** Parses one line and renders its JSON output line (without the newline). */
export function formatParseResult(line: string): string {
  const parsed = parseStatusString(line);
  return parsed.ok
    ? JSON.stringify({ ok: true, ...statusRecordToJson(parsed.value) })
    : JSON.stringify({ ok: false, error: parsed.error });
}

const STDIN_NAME = "-";
/** Output is gathered into chunks of about this many characters before it is written. */
const CHUNK_CHARS = 64 * 1024;

/** An input could not be read to its end. */
class ReadFailure extends Error {}
/** Standard output failed. */
class WriteFailure extends Error {
  constructor(readonly reason: unknown) {
    super(describeError(reason));
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Checks every named file can be read; returns a message for the first that cannot, else null. */
async function findUnreadableFile(files: string[]): Promise<string | null> {
  for (const file of files) {
    if (file === STDIN_NAME) continue;
    try {
      await access(file, constants.R_OK);
      if ((await stat(file)).isDirectory()) return `cannot read ${file}: it is a directory`;
    } catch (error) {
      return `cannot read ${file}: ${describeError(error)}`;
    }
  }
  return null;
}

type Writer = {
  /** Queues text; writes a chunk when enough is gathered, waiting for `drain` when the stream is full. */
  write: (text: string) => Promise<void>;
  /** Writes what is queued and waits until the stream has taken all of it. */
  flush: () => Promise<void>;
  /** Stops listening for the stream's errors. */
  release: () => void;
};

/** Writes to a stream with backpressure; every failure rejects with WriteFailure. */
function createWriter(out: NodeJS.WritableStream): Writer {
  let pending = "";
  let failure: unknown = null;
  // A failing output (a closed pipe) must not crash the process through an unhandled 'error' event.
  const onError = (error: unknown): void => {
    failure ??= error;
  };
  out.on("error", onError);

  const writeChunk = async (chunk: string, waitForAll: boolean): Promise<void> => {
    if (failure !== null) throw new WriteFailure(failure);
    try {
      if (waitForAll) {
        await new Promise<void>((resolve, reject) => {
          out.write(chunk, (error?: Error | null) => (error ? reject(error) : resolve()));
        });
      } else if (!out.write(chunk)) {
        await once(out, "drain");
      }
    } catch (error) {
      throw new WriteFailure(failure ?? error);
    }
  };

  return {
    async write(text) {
      pending += text;
      if (pending.length < CHUNK_CHARS) return;
      const chunk = pending;
      pending = "";
      await writeChunk(chunk, false);
    },
    async flush() {
      const chunk = pending;
      pending = "";
      // The callback of the last write runs once everything before it has been handed on.
      await writeChunk(chunk, true);
    },
    release() {
      out.off("error", onError);
    },
  };
}

/** A line longer than this is answered with the error `line_too_long` instead of being parsed. */
export const MAX_PARSE_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Streams the lines of one input through the parser: LF ends a line (a CR before it is dropped, a lone CR is
 * not a line end), and each line is read as UTF-8, else windows-1251.
 */
async function parseInput(input: NodeJS.ReadableStream, writer: Writer): Promise<void> {
  try {
    for await (const line of splitLines(input as AsyncIterable<Uint8Array>, MAX_PARSE_LINE_BYTES)) {
      const out = line.ok
        ? formatParseResult(line.text)
        : JSON.stringify({ ok: false, error: { code: "line_too_long", message: `the line has ${line.bytes} bytes; at most ${MAX_PARSE_LINE_BYTES}` } });
      await writer.write(`${out}\n`);
    }
  } catch (error) {
    if (error instanceof WriteFailure) throw error;
    throw new ReadFailure(describeError(error));
  }
}

/** Runs `parse` over the named files (standard input when none); returns the exit code. */
export async function runParse(files: string[], io: ParseIo): Promise<number> {
  const unreadable = await findUnreadableFile(files);
  if (unreadable !== null) {
    io.stderr.write(`smsc-hub parse: ${unreadable}\n`);
    return 2;
  }

  const writer = createWriter(io.stdout);
  const inputs = files.length === 0 ? [STDIN_NAME] : files;
  let current = STDIN_NAME;
  try {
    for (const name of inputs) {
      current = name;
      if (name === STDIN_NAME) {
        await parseInput(io.stdin, writer);
        continue;
      }
      const file = createReadStream(name);
      try {
        await parseInput(file, writer);
      } finally {
        file.destroy(); // closes the file when reading stopped early
      }
    }
    await writer.flush();
    return 0;
  } catch (error) {
    if (error instanceof ReadFailure) {
      // The lines before the failure stay written: they are complete and correct.
      await writer.flush().catch(() => undefined);
      const source = current === STDIN_NAME ? "standard input" : current;
      io.stderr.write(`smsc-hub parse: cannot read ${source}: ${error.message}\n`);
      return 2;
    }
    const reason = error instanceof WriteFailure ? error.reason : error;
    if (isBrokenPipe(reason)) return 0;
    io.stderr.write(`smsc-hub parse: cannot write the output: ${describeError(reason)}\n`);
    return 1;
  } finally {
    writer.release();
  }
}

function isBrokenPipe(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "EPIPE";
}
