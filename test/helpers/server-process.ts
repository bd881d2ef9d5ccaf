// Starts the built service (node dist/main.js) as a child process on a free port, against a database of the
// test's own: a new Postgres database when DATABASE_URL is set, else an embedded PGlite folder.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createDb, type Database } from "../../src/db/client.js";
import { createServerDatabase, serverUrl } from "./db.js";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const ENTRY = path.join(ROOT, "dist", "main.js");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Where a server process keeps its data, and how to look at it once the process has stopped. */
export type ServerStore = {
  env: Record<string, string>;
  /** Opens the database (for PGlite only once no server holds the folder). */
  open: () => Promise<Database>;
  drop: () => Promise<void>;
};

export async function createServerStore(): Promise<ServerStore> {
  const base = serverUrl();
  if (base) {
    const created = await createServerDatabase(base);
    return {
      env: { DATABASE_URL: created.url },
      open: () => createDb({ databaseUrl: created.url, pgliteDir: "", poolSize: 2 }),
      drop: created.drop,
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smsc-hub-e2e-"));
  const pgliteDir = path.join(dir, "pglite");
  return {
    env: { PGLITE_DIR: pgliteDir, DATABASE_URL: "" },
    open: () => createDb({ databaseUrl: undefined, pgliteDir }),
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export type ServerProcess = {
  proc: ChildProcess;
  port: number;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
};

/**
 * Starts the built service (`node dist/main.js`, or `command`) and waits until it listens. `detached`: in a process
 * group of its own, which `killGroup` ends whole (for a command that starts the service as a grandchild).
 */
export async function startServerProcess(
  env: Record<string, string>,
  options: { command?: readonly string[]; detached?: boolean } = {},
): Promise<ServerProcess> {
  if (!fs.existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`npm run build\` first (npm test does)`);
  const port = await freePort();
  const command = options.command ?? [process.execPath, ENTRY];
  const proc = spawn(command[0]!, command.slice(1), {
    detached: options.detached ?? false,
    cwd: ROOT,
    env: { ...process.env, HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (options.detached) killGroup(proc);
      else proc.kill("SIGKILL");
      reject(new Error(`server did not start in time:\n${out}`));
    }, 60_000);
    const check = () => {
      if (out.includes('"msg":"listening"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  return { proc, port, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

/** SIGKILL to every process of a detached process's group (a no-op once they are gone). */
export function killGroup(proc: ChildProcess): void {
  try {
    process.kill(-proc.pid!, "SIGKILL");
  } catch {
    // already gone
  }
}
