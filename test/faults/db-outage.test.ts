// Postgres goes away in the middle of a load and comes back: 503 with Retry-After meanwhile, recovery without a
// restart, and every callback that got 200 is stored exactly once. The service runs as its own process (the built
// dist/main.js), so a crash in the driver would show as a dead process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client.js";
import { createServerDatabase } from "../helpers/db.js";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";

type Outcome = { id: string; status: number; retryAfter: string | null; phase: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(50);
  if (!condition()) throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe("database outage under load", () => {
  let database: { url: string; drop: () => Promise<void> };
  let proxy: TcpProxy;
  let server: ServerProcess;

  beforeAll(async () => {
    database = await createServerDatabase(process.env.DATABASE_URL!);
    const target = new URL(database.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(database.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    server = await startServerProcess({ DATABASE_URL: viaProxy.toString() });
  });

  afterAll(async () => {
    proxy?.restore();
    if (server && server.proc.exitCode === null) {
      server.proc.kill("SIGTERM");
      await server.exited;
    }
    await proxy?.close();
    await database?.drop();
  });

  it("answers 503 while the database is away, recovers by itself, and loses nothing it acknowledged", async () => {
    const outcomes: Outcome[] = [];
    let phase = "before";
    let n = 0;
    let stop = false;
    const send = async () => {
      const id = `OUT${n++}`;
      try {
        const res = await fetch(`${server.url}/callbacks/smsc`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: `id=${id}&phone=7916${String(2000000 + n)}&status=1&err=0&ts=${1717585400 + n}`,
        });
        await res.text();
        outcomes.push({ id, status: res.status, retryAfter: res.headers.get("retry-after"), phase });
      } catch {
        outcomes.push({ id, status: 0, retryAfter: null, phase });
      }
    };
    const workers = Array.from({ length: 20 }, async () => {
      while (!stop) await send();
    });
    const count = (p: string, s: number) => outcomes.filter((o) => o.phase === p && o.status === s).length;

    await until(() => count("before", 200) >= 100, 60_000);
    phase = "outage";
    proxy.cut();
    await until(() => count("outage", 503) >= 20, 60_000);
    const readyDuringOutage = await fetch(`${server.url}/readyz`);
    expect(readyDuringOutage.status).toBe(503);
    phase = "after";
    proxy.restore();
    await until(() => count("after", 200) >= 100, 60_000); // recovery without a restart
    stop = true;
    await Promise.all(workers);

    expect(server.proc.exitCode).toBeNull(); // the process lived through it
    for (const o of outcomes) {
      expect([200, 503]).toContain(o.status); // never a 500, never a dropped connection
      if (o.status === 503) expect(o.retryAfter).toMatch(/^\d+$/);
    }
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    const direct = await createDb({ databaseUrl: database.url, pgliteDir: "", poolSize: 1 });
    try {
      const rows = await direct.query<{ smsc_id: string }>("SELECT smsc_id FROM callbacks");
      const stored = new Set(rows.map((r) => r.smsc_id));
      expect(rows.length).toBe(stored.size);
      const lost = outcomes.filter((o) => o.status === 200 && !stored.has(o.id)).map((o) => o.id);
      expect(lost).toEqual([]);
      const [counts] = await direct.query<{ events: number; messages: number }>(
        "SELECT (SELECT count(*)::int FROM status_events) AS events, (SELECT count(*)::int FROM messages) AS messages",
      );
      expect(counts!.events).toBe(stored.size);
      expect(counts!.messages).toBe(stored.size);
    } finally {
      await direct.close();
    }
  });
});
