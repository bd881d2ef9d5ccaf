import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runParse, statusRecordToJson } from "../../src/cli/parse-command.js";
import { parseStatusString } from "../../src/domain/status-string.js";

/** A stdout/stderr stand-in that keeps what it is given. */
function collector(options: { highWaterMark?: number; slow?: boolean } = {}) {
  const chunks: string[] = [];
  let maxBuffered = 0;
  const stream = new Writable({
    highWaterMark: options.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      maxBuffered = Math.max(maxBuffered, stream.writableLength);
      const keep = (): void => {
        chunks.push(chunk.toString("utf8"));
        callback();
      };
      // A slow stream takes each chunk on a later turn of the event loop, like a pipe to a busy reader.
      if (options.slow) setImmediate(keep);
      else keep();
    },
  });
  return {
    stream,
    text: () => chunks.join(""),
    lines: () => chunks.join("").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as unknown),
    maxBuffered: () => maxBuffered,
  };
}

function stdinOf(text: string): Readable {
  return Readable.from([Buffer.from(text, "utf8")]);
}

const HLR = "id:855469 stat:DELIVRD err:000 imsi:250023012345678 msc:79232510066 mcc:250 mnc:02 cn:Russian+Federation net:MTS rcn: rnet:";
const DLR = "id:42 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:delivrd err:000 text:Hi: there";

const HLR_JSON = {
  ok: true,
  id: "855469",
  stat: "DELIVRD",
  err: "000",
  submit_date: null,
  done_date: null,
  sub: null,
  dlvrd: null,
  text: null,
  imsi: "250023012345678",
  msc: "79232510066",
  mcc: "250",
  mnc: "02",
  cn: "Russian Federation",
  net: "MTS",
  rcn: "",
  rnet: "",
  roaming: false,
  extra: {},
};
const DLR_JSON = {
  ok: true,
  id: "42",
  stat: "DELIVRD",
  err: "000",
  submit_date: "2024-01-15T12:30:00",
  done_date: "2024-01-15T12:31:00",
  sub: "001",
  dlvrd: "001",
  text: "Hi: there",
  imsi: null,
  msc: null,
  mcc: null,
  mnc: null,
  cn: null,
  net: null,
  rcn: null,
  rnet: null,
  roaming: null,
  extra: {},
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "smsc-hub-parse-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("statusRecordToJson", () => {
  it("maps every field to its snake_case key, in the documented order", () => {
    const parsed = parseStatusString(`price:1.5 ${DLR}`);
    if (!parsed.ok) throw new Error("fixture line must parse");
    const json = statusRecordToJson(parsed.value);
    expect(Object.keys(json)).toEqual([
      "id", "stat", "err", "submit_date", "done_date", "sub", "dlvrd", "text", "imsi", "msc", "mcc", "mnc",
      "cn", "net", "rcn", "rnet", "roaming", "extra",
    ]);
    expect(json).toMatchObject({ submit_date: "2024-01-15T12:30:00", done_date: "2024-01-15T12:31:00", extra: { price: "1.5" } });
  });
});

describe("runParse: happy path", () => {
  it("reads standard input when no file is named, one JSON object per line, in order", async () => {
    const stdout = collector();
    const stderr = collector();
    const input = `${HLR}\r\n\nid:1 err:000\n${DLR}\n`;
    const code = await runParse([], { stdin: stdinOf(input), stdout: stdout.stream, stderr: stderr.stream });
    expect(code).toBe(0);
    expect(stdout.lines()).toEqual([
      HLR_JSON,
      { ok: false, error: { code: "empty_line", message: expect.any(String) } },
      { ok: false, error: { code: "missing_stat", message: expect.any(String) } },
      DLR_JSON,
    ]);
    expect(stdout.text().endsWith("\n")).toBe(true);
    expect(stderr.text()).toBe("");
  });

  it("reads the named files in order, and `-` as standard input", async () => {
    const first = join(dir, "first.txt");
    const second = join(dir, "second.txt");
    await writeFile(first, `${DLR}\n`);
    await writeFile(second, HLR); // no newline at the end
    const stdout = collector();
    const stderr = collector();
    const code = await runParse([second, "-", first], {
      stdin: stdinOf("stat:DELIVRD\n"),
      stdout: stdout.stream,
      stderr: stderr.stream,
    });
    expect(code).toBe(0);
    expect(stdout.lines()).toEqual([
      HLR_JSON,
      { ok: false, error: { code: "missing_id", message: expect.any(String) } },
      DLR_JSON,
    ]);
    expect(stderr.text()).toBe("");
  });

  it("reads a UTF-8 file with non-ASCII text", async () => {
    const file = join(dir, "utf8.txt");
    await writeFile(file, "id:1 stat:DELIVRD text:Привет\n");
    const stdout = collector();
    const code = await runParse([file], { stdin: stdinOf(""), stdout: stdout.stream, stderr: collector().stream });
    expect(code).toBe(0);
    expect(stdout.lines()).toEqual([{ ...DLR_JSON, id: "1", err: null, submit_date: null, done_date: null, sub: null, dlvrd: null, text: "Привет" }]);
  });

  it("reads a windows-1251 file, and ends lines only at LF (a lone CR stays in the line)", async () => {
    const file = join(dir, "cp1251.txt");
    const cp1251 = (t: string) => [...t].map((ch) => (ch.charCodeAt(0) >= 0x410 ? ch.charCodeAt(0) - 0x410 + 0xc0 : ch.charCodeAt(0)));
    await writeFile(file, Buffer.from([...cp1251("id:1 stat:DELIVRD cn:Россия\r\n"), ...cp1251("id:2 stat:DELIVRD text:a\rb\n")]));
    const stdout = collector();
    const code = await runParse([file], { stdin: stdinOf(""), stdout: stdout.stream, stderr: collector().stream });
    expect(code).toBe(0);
    const lines = stdout.lines() as { id: string; cn: string | null; text: string | null }[];
    expect(lines.map((l) => [l.id, l.cn, l.text])).toEqual([
      ["1", "Россия", null],
      ["2", null, "a\rb"],
    ]);
  });

  it("writes nothing for empty input", async () => {
    const stdout = collector();
    const code = await runParse([], { stdin: stdinOf(""), stdout: stdout.stream, stderr: collector().stream });
    expect(code).toBe(0);
    expect(stdout.text()).toBe("");
  });
});

describe("runParse: unreadable input", () => {
  it("exits 2 with a message on stderr when a file is missing", async () => {
    const missing = join(dir, "missing.txt");
    const stdout = collector();
    const stderr = collector();
    const code = await runParse([missing], { stdin: stdinOf(""), stdout: stdout.stream, stderr: stderr.stream });
    expect(code).toBe(2);
    expect(stdout.text()).toBe("");
    expect(stderr.text()).toContain(missing);
  });

  it("checks every file before writing anything", async () => {
    const good = join(dir, "good.txt");
    await writeFile(good, `${HLR}\n`);
    const missing = join(dir, "missing.txt");
    const stdout = collector();
    const stderr = collector();
    const code = await runParse([good, missing], { stdin: stdinOf(""), stdout: stdout.stream, stderr: stderr.stream });
    expect(code).toBe(2);
    expect(stdout.text()).toBe("");
    expect(stderr.text()).toContain(missing);
  });

  it("exits 2 for a directory", async () => {
    const stdout = collector();
    const stderr = collector();
    const code = await runParse([dir], { stdin: stdinOf(""), stdout: stdout.stream, stderr: stderr.stream });
    expect(code).toBe(2);
    expect(stdout.text()).toBe("");
    expect(stderr.text()).toContain("directory");
  });

  it("exits 2 when standard input fails while it is read", async () => {
    const stdin = new PassThrough();
    const stdout = collector();
    const stderr = collector();
    const running = runParse([], { stdin, stdout: stdout.stream, stderr: stderr.stream });
    stdin.write(`${HLR}\n`);
    setImmediate(() => stdin.destroy(new Error("device gone")));
    expect(await running).toBe(2);
    expect(stderr.text()).toContain("device gone");
  });
});

describe("runParse: output", () => {
  it("respects backpressure: never buffers much more than one chunk, and loses nothing", async () => {
    const count = 20_000;
    const input = Array.from({ length: count }, (_, i) => `id:${i} stat:DELIVRD err:000 text:${"x".repeat(80)}`).join("\n");
    const stdout = collector({ highWaterMark: 1024, slow: true });
    const code = await runParse([], { stdin: stdinOf(input), stdout: stdout.stream, stderr: collector().stream });
    expect(code).toBe(0);
    const ids = stdout.lines().map((line) => (line as { id: string }).id);
    expect(ids).toEqual(Array.from({ length: count }, (_, i) => String(i)));
    // The output is several MB; a writer ignoring `drain` would queue all of it.
    expect(stdout.text().length).toBeGreaterThan(4_000_000);
    expect(stdout.maxBuffered()).toBeLessThan(256 * 1024);
  });

  it("has flushed everything when it resolves", async () => {
    const stdout = collector({ highWaterMark: 1024 * 1024, slow: true });
    const code = await runParse([], { stdin: stdinOf(`${HLR}\n${DLR}\n`), stdout: stdout.stream, stderr: collector().stream });
    expect(code).toBe(0);
    expect(stdout.lines()).toEqual([HLR_JSON, DLR_JSON]);
  });

  it("exits 0 quietly when the reader goes away (EPIPE)", async () => {
    const stderr = collector();
    const stdout = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    const code = await runParse([], { stdin: stdinOf(`${HLR}\n`), stdout, stderr: stderr.stream });
    expect(code).toBe(0);
    expect(stderr.text()).toBe("");
  });

  it("exits 1 with a message when standard output fails otherwise", async () => {
    const stderr = collector();
    const stdout = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error("disk full"));
      },
    });
    const code = await runParse([], { stdin: stdinOf(`${HLR}\n`), stdout, stderr: stderr.stream });
    expect(code).toBe(1);
    expect(stderr.text()).toContain("disk full");
  });
});
