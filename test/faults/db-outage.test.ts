// Postgres goes away in the middle of a load and comes back: 503 with Retry-After meanwhile, recovery without a
// restart, and every callback that got 200 is stored exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { createDb } from "../../src/db/client.js";
import { createLogger } from "../../src/http/logger.js";
import { startService, type RunningService } from "../../src/server.js";
import { createServerDatabase } from "../helpers/db.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";

type Outcome = { id: string; status: number; retryAfter: string | null; phase: string };

describe("database outage under load", () => {
  let database: { url: string; drop: () => Promise<void> };
  let proxy: TcpProxy;
  let service: RunningService;
  let base: string;

  beforeAll(async () => {
    database = await createServerDatabase(process.env.DATABASE_URL!);
    const target = new URL(database.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(database.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    const config = parseConfig({ DATABASE_URL: viaProxy.toString(), PORT: "0", LOG_LEVEL: "silent" });
    service = await startService(config, createLogger("silent"));
    base = `http://127.0.0.1:${service.port}`;
  });

  afterAll(async () => {
    proxy.restore();
    await service?.stop();
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
        const res = await fetch(`${base}/callbacks/smsc`, {
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

    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await sleep(1500);
    phase = "outage";
    proxy.cut();
    await sleep(2500);
    const readyDuringOutage = await fetch(`${base}/readyz`);
    expect(readyDuringOutage.status).toBe(503);
    phase = "after";
    proxy.restore();
    // Recovery without a restart: wait for 200s again.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !outcomes.some((o) => o.phase === "after" && o.status === 200)) await sleep(200);
    await sleep(1000);
    stop = true;
    await Promise.all(workers);

    const byPhase = (p: string, s: number) => outcomes.filter((o) => o.phase === p && o.status === s).length;
    expect(byPhase("before", 200)).toBeGreaterThan(50);
    expect(byPhase("outage", 503)).toBeGreaterThan(0);
    expect(byPhase("after", 200)).toBeGreaterThan(0);
    for (const o of outcomes) {
      expect([200, 503]).toContain(o.status); // never a 500, never a dropped connection
      if (o.status === 503) expect(o.retryAfter).toMatch(/^\d+$/);
    }
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

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
