// Shared by the benchmark scenarios: flags, the results table, and starting processes to measure.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, ROOT } from "../test/helpers/server-process.js";

export const args = process.argv.slice(2);
export const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
export const selected = args.filter((a, i) => !a.startsWith("--") && !(args[i - 1] ?? "").startsWith("--"));
export const duration = flag("duration", 10);
/** How many numbers / status events the data-size scenarios store (the README's table says which it used). */
export const scale = flag("scale", 1_000_000);

export type Row = { scenario: string; measured: string; value: number; baseline: number; ratio: number; aim: string; note?: string };
export const rows: Row[] = [];

export async function startProcess(command: string[], env: Record<string, string>): Promise<{ proc: ChildProcess; port: number }> {
  const port = await freePort();
  // BENCH_CPU_PROF=dir: each measured Node process writes a CPU profile there when it exits (open it in Chrome's DevTools).
  if (process.env.BENCH_CPU_PROF && command[0] === process.execPath) {
    command = [command[0], "--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, ...command.slice(1)];
  }
  // The process's log goes to a file, as it would in production (a pipe read by this process would charge the load
  // generator with reading a log line per request, which the baseline does not write).
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "smsc-hub-bench-"));
  const logFile = path.join(logDir, "stdout.log");
  const out = fs.openSync(logFile, "w");
  const proc = spawn(command[0]!, command.slice(1), { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "info" }, stdio: ["ignore", out, "inherit"] });
  fs.closeSync(out);
  const log = () => {
    try {
      return fs.readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (log().includes('"msg":"listening"')) done(null);
        else if (Date.now() - started > 60_000) {
          proc.kill("SIGKILL");
          done(new Error(`did not start: ${log()}`));
        }
      }, 50);
      const exited = (code: number | null) => done(new Error(`exited ${code}: ${log()}`));
      proc.once("exit", exited);
      function done(err: Error | null) {
        clearInterval(poll);
        proc.off("exit", exited);
        if (err) reject(err);
        else resolve();
      }
    });
  } catch (err) {
    fs.rmSync(logDir, { recursive: true, force: true });
    throw err;
  }
  proc.once("exit", () => fs.rmSync(logDir, { recursive: true, force: true }));
  return { proc, port };
}

export async function stopProcess(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await exited;
}

