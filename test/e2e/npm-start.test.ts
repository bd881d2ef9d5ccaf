// `npm start`, as the README's quick start runs it: npm runs the service through `sh -c`, and Debian's sh does not
// pass on a SIGTERM sent to npm. Stopping npm must still stop the service (scripts/start.mjs), or it runs on,
// orphaned, holding its port and the embedded database's lock.
import net from "node:net";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { distIsStale } from "../../scripts/dist.mjs";
import { until } from "../faults/support/process.js";
import { createServerStore, killGroup, startServerProcess, type ServerProcess, type ServerStore } from "../helpers/server-process.js";

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
    if (distIsStale()) throw new Error("dist/ is older than src/: run `npm run build` first");
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
    const { port, output } = server;
    await until(() => refused(port), 20_000, "the service's port freed", 200);
    expect(await refused(port)).toBe(true);
    // The service's own shutdown ran (its output still reaches this pipe): drained, then stopped.
    await until(() => output().includes('"msg":"stopped"'), 5_000, "the service's stopped line", 100);
    expect(server.output()).toContain('"msg":"shutting down"');
    expect(server.output()).toContain('"msg":"stopped"');
  });
});
