// `npm start`, as the README's quick start runs it: npm runs the service through `sh -c`, and Debian's sh does not
// pass on a SIGTERM sent to npm. Stopping npm must still stop the service (scripts/start.mjs), or it runs on,
// orphaned, holding its port and the embedded database's lock.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createServerStore, startServerProcess, type ServerProcess, type ServerStore } from "../helpers/server-process.js";

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
  afterEach(async () => {
    if (server && server.proc.exitCode === null) server.proc.kill("SIGKILL");
    await store?.drop();
  });

  it("stops the service when npm is stopped with SIGTERM: it shuts down cleanly and frees its port", async () => {
    store = await createServerStore();
    server = await startServerProcess(store.env, ["npm", "start", "--silent"]);
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
