// Shared by the benchmark scenarios: flags, the results table, and starting processes to measure.
import { spawn, type ChildProcess } from "node:child_process";
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
  const proc = spawn(command[0]!, command.slice(1), { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "info" }, stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`did not start: ${out}`)), 60_000);
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes('"msg":"listening"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  proc.stdout!.resume();
  return { proc, port };
}

export async function stopProcess(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await exited;
}

