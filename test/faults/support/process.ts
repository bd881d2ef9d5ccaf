// What the fault tests need from the started service process: its resident memory (VmRSS from /proc), a sampler
// that keeps the peak while something runs, and a stop that never leaves the process behind.
import fs from "node:fs";
import type { ServerProcess } from "../../helpers/server-process.js";

export const MB = 1024 * 1024;

/** The process's resident set size in bytes, from /proc/<pid>/status (Linux). */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Samples a process's RSS every `everyMs` until stopped; `peak` is the largest value seen. */
export function sampleRss(pid: number, everyMs = 25): { readonly peak: number; stop: () => number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      // the process is gone: the test's own liveness check says so
    }
  }, everyMs);
  return {
    get peak() {
      return peak;
    },
    stop: () => {
      clearInterval(timer);
      try {
        peak = Math.max(peak, rssBytes(pid));
      } catch {
        // see above
      }
      return peak;
    },
  };
}

/** When the service has exited on its own, its last lines of output (for the test log); else null. */
export function exitReport(server: ServerProcess | undefined, lines = 15): string | null {
  if (!server || (server.proc.exitCode === null && server.proc.signalCode === null)) return null;
  const tail = server.output().trimEnd().split("\n").slice(-lines).join("\n");
  return `the service exited (code ${server.proc.exitCode}, signal ${server.proc.signalCode}); its last output:\n${tail}`;
}

/** Stops a started service (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
export async function stopServer(server: ServerProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!server || server.proc.exitCode !== null || server.proc.signalCode !== null) return;
  server.proc.kill("SIGTERM");
  const timer = setTimeout(() => server.proc.kill("SIGKILL"), graceMs);
  await server.exited;
  clearTimeout(timer);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `condition` holds, polling every `everyMs`; throws after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what = "condition", everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline) throw new Error(`${what}: not met within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}
