// `smsc-hub hygiene FILE ...` as a process, against a database of the suite's own (a fresh Postgres database with
// DATABASE_URL, else an embedded PGlite folder): the CSV on standard output or in --out, --excel, --max-age,
// --default-country, exit codes; and the progress bar a terminal gets (in-process, with a terminal stand-in).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatOfFile, parseHygieneArgs, ProgressBar, runHygiene } from "../../src/cli/hygiene-command.js";
import { parseConfig } from "../../src/config.js";
import { migrate } from "../../src/db/migrate.js";
import { createTestApp, form } from "../helpers/app.js";
import { createTestDatabase } from "../helpers/db.js";
import { createServerStore, ROOT, type ServerStore } from "../helpers/server-process.js";

const FIXTURES = path.join(ROOT, "test", "fixtures", "hygiene");
const REACHABLE = "79161234567";
const INVALID = "79161234568";
const OPTED_OUT = "79161234569";

type Run = { code: number | null; stdout: Buffer; stderr: string };

function cli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "hygiene", ...args], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: "silent", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let err = "";
    proc.stdout.on("data", (d: Buffer) => out.push(d));
    proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
    proc.once("error", reject);
    proc.once("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

describe("smsc-hub hygiene (a process)", () => {
  let store: ServerStore;
  let dir: string;

  beforeAll(async () => {
    store = await createServerStore();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "smsc-hub-hygiene-"));
    // Evidence, sent through the callback route of an app on the same database; then the database is let go, so
    // that the command can open it (PGlite allows one process at a time).
    const db = await store.open();
    await migrate(db);
    const app = await createTestApp({}, { database: { db, url: undefined, drop: async () => {} } });
    const ts = String(Math.floor(Date.now() / 1000) - 3600);
    for (const [phone, err] of [
      [REACHABLE, "0"],
      [INVALID, "1"],
      [OPTED_OUT, "0"],
    ]) {
      const res = await app.request("/callbacks/smsc", form({ id: `H${phone}`, phone: phone!, type: "4", status: "1", err: err!, mcc: "250", mnc: "01", net: "MTS", ts }));
      expect(res.status).toBe(200);
    }
    await app.request("/callbacks/smsc", form({ id: "MO1", phone: OPTED_OUT, mes: "STOP", ts }));
    await app.close();
    await db.close();
  }, 120_000);

  afterAll(async () => {
    await store?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("classifies a CSV and writes the result CSV on standard output; the summary goes to standard error", async () => {
    const file = path.join(dir, "list.csv");
    fs.writeFileSync(file, `name;phone\nAnna;+7 916 123-45-67\nBoris;${INVALID}\nCyril;${OPTED_OUT}\nDina;8 916 123 45 67\nEgor;79031234567\nFoo;??\n`);
    const run = await cli([file], store.env);
    expect(run.code, run.stderr).toBe(0);
    const records: string[][] = parse(run.stdout.toString("utf8"));
    expect(records[0]).toEqual(["name", "phone", "e164", "phone_error", "duplicate_of", "verdict", "reason", "evidence_at", "operator", "country", "roaming", "opted_out", "action"]);
    expect(records.slice(1).map((r) => [r[0], r[2], r[4], r[5], r[11], r[12]])).toEqual([
      ["Anna", `+${REACHABLE}`, "", "valid_reachable", "false", "keep"],
      ["Boris", `+${INVALID}`, "", "invalid", "false", "drop"],
      ["Cyril", `+${OPTED_OUT}`, "", "valid_reachable", "true", "drop"],
      ["Dina", `+${REACHABLE}`, "1", "valid_reachable", "false", "drop"],
      ["Egor", "+79031234567", "", "unknown", "false", "recheck"],
      ["Foo", "", "", "", "", "drop"],
    ]);
    expect(run.stderr).toMatch(/report rep_[0-9a-f]+: 6 rows; keep 1, drop 4, recheck 1 \(1 duplicates, 1 malformed, 1 opted out\)/);
    // Not a terminal: no progress bar.
    expect(run.stderr).not.toContain("rows/s");
  }, 120_000);

  it("--out, --excel, --max-age and --default-country; .txt and .json lists", async () => {
    const out = path.join(dir, "out.csv");
    const run = await cli([path.join(FIXTURES, "numbers.txt"), "--out", out, "--excel", "--max-age", "1d", "--default-country", "ru"], store.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.length).toBe(0);
    const written = fs.readFileSync(out);
    expect([...written.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const records: string[][] = parse(written.subarray(3).toString("utf8"), { delimiter: ";" });
    expect(records[0]!.slice(0, 3)).toEqual(["phone", "e164", "phone_error"]);
    expect(records.slice(1).map((r) => [r[0], r[1], r[r.length - 1]])).toEqual([
      ["79161234567", "+79161234567", "keep"],
      ["+7 (916) 123-45-68", "+79161234568", "drop"],
      ["8 916 123 45 69", "+79161234569", "drop"],
    ]);
    const json = await cli([path.join(FIXTURES, "numbers.json"), "--max-age", "1h"], store.env);
    expect(json.code, json.stderr).toBe(0);
    // Evidence from an hour ago and more is too old for --max-age 1h: everything is to be checked again.
    const rows: string[][] = parse(json.stdout.toString("utf8"));
    expect(rows.slice(1).map((r) => [r[1], r[4], r[r.length - 1]])).toEqual([
      ["+79161234567", "unknown", "recheck"],
      ["+79161234568", "unknown", "recheck"],
      ["+79161234569", "unknown", "drop"],
    ]);
  }, 120_000);

  it("exit 2 for a file it cannot read, a path it cannot write or bad options; exit 1 for a list it cannot classify", async () => {
    const missing = await cli([path.join(dir, "nope.csv")], store.env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.csv: ENOENT/);
    const directory = await cli([dir], store.env);
    expect(directory.code).toBe(2);
    const unwritable = await cli([path.join(FIXTURES, "numbers.txt"), "--out", path.join(dir, "no-such-dir", "out.csv")], store.env);
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toContain("cannot write");
    const badAge = await cli([path.join(FIXTURES, "numbers.txt"), "--max-age", "30 days"], store.env);
    expect(badAge.code).toBe(2);
    expect(badAge.stderr).toContain("usage: smsc-hub hygiene");
    const empty = path.join(dir, "empty.csv");
    fs.writeFileSync(empty, "");
    const nothing = await cli([empty], store.env);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain("empty_body");
  }, 120_000);
});

describe("hygiene command, in-process", () => {
  it("reads its arguments", () => {
    expect(parseHygieneArgs(["a.csv", "--out", "b.csv", "--excel", "--column", "2", "--default-country", "kz"])).toEqual({
      file: "a.csv",
      out: "b.csv",
      maxAge: null,
      defaultCountry: "KZ",
      column: "2",
      excel: true,
    });
    expect(parseHygieneArgs([])).toEqual({ error: "name the list to classify" });
    expect(parseHygieneArgs(["a", "b"])).toEqual({ error: "one list at a time" });
    expect(parseHygieneArgs(["a", "--out"])).toEqual({ error: "--out needs a value" });
    expect(parseHygieneArgs(["a", "--what"])).toEqual({ error: 'unknown option "--what"' });
    expect(parseHygieneArgs(["a", "--default-country", "XX"])).toMatchObject({ error: expect.stringContaining("--default-country") });
    expect([formatOfFile("a.JSON"), formatOfFile("b.txt"), formatOfFile("c.csv"), formatOfFile("d")]).toEqual(["json", "text", "csv", "csv"]);
  });

  it("shows a progress bar (rows, rate, time left) on a terminal", async () => {
    const database = await createTestDatabase();
    try {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smsc-hub-hygiene-bar-"));
      const file = path.join(dir, "big.txt");
      fs.writeFileSync(file, Array.from({ length: 12_000 }, (_, i) => `7903${String(i).padStart(7, "0")}`).join("\n"));
      const stderr = Object.assign(new PassThrough(), { isTTY: true });
      let err = "";
      stderr.on("data", (d: Buffer) => (err += d.toString()));
      const stdout = new PassThrough();
      let lines = 0;
      stdout.on("data", (d: Buffer) => (lines += d.toString().split("\n").length - 1));
      const code = await runHygiene([file], { stdout, stderr, config: parseConfig({}), openDb: async () => ({ ...database.db, close: async () => {} }) });
      expect(code, err).toBe(0);
      expect(lines).toBe(12_001);
      expect(err).toMatch(/\r\[#{24}\] 100% 12,000 rows · [\d,]+ rows\/s · 0 s left/);
      fs.rmSync(dir, { recursive: true, force: true });
    } finally {
      await database.drop();
    }
  });

  it("the bar reads the file's progress for the time left", () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => (text += d.toString()));
    let now = 0;
    const bar = new ProgressBar(out, 1000, () => now);
    now = 2000;
    bar.update(5000, 250);
    expect(text).toContain("[######..................]  25% 5,000 rows · 2,500 rows/s · 6 s left");
  });
});
