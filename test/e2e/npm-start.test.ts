// `npm start`, as the README's quick start runs it: npm runs the service through `sh -c`, and Debian's sh does not
// pass on a SIGTERM sent to npm. Stopping npm must still stop the service (scripts/start.mjs), or it runs on,
// orphaned, holding its port and the embedded database's lock.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createServerStore, ENTRY, killGroup, ROOT, startServerProcess, type ServerProcess, type ServerStore } from "../helpers/server-process.js";

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** True when nothing accepts connections on the port any more. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

describe("npm start", () => {
  let store: ServerStore | undefined;
  let server: ServerProcess | undefined;
  beforeAll(() => {
    // npm start would rebuild a stale dist/ under the other end-to-end tests' feet: npm test builds first.
    if (newestMtime(path.join(ROOT, "src")) > fs.statSync(ENTRY).mtimeMs) throw new Error("dist/ is older than src/: run `npm run build` first");
  });
  afterEach(async () => {
    if (server) killGroup(server.proc); // npm, its shell and the service, whatever this test left running
    await store?.drop();
  });

  it("stops the service when npm is stopped with SIGTERM: it shuts down cleanly and frees its port", { timeout: 120_000 }, async () => {
    store = await createServerStore();
    server = await startServerProcess(store.env, { command: ["npm", "start", "--silent"], detached: true });
    expect(await refused(server.port)).toBe(false);

    server.proc.kill("SIGTERM"); // npm, not the service
    await server.exited;
    const deadline = Date.now() + 20_000;
    while (!(await refused(server.port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await refused(server.port)).toBe(true);
    // The service's own shutdown ran (its output still reaches this pipe): drained, then stopped.
    const stopped = Date.now() + 5_000;
    while (!server.output().includes('"msg":"stopped"') && Date.now() < stopped) await new Promise((r) => setTimeout(r, 100));
    expect(server.output()).toContain('"msg":"shutting down"');
    expect(server.output()).toContain('"msg":"stopped"');
  });
});
