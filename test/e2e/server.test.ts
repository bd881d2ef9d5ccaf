// The built service as a process: real HTTP in, rows checked; SIGTERM under load loses nothing acknowledged.
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createServerStore, startServerProcess, type ServerProcess, type ServerStore } from "../helpers/server-process.js";

type Answer = { id: string; status: number | "error" };

function postForm(agent: http.Agent, port: number, path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: "127.0.0.1", port, path, method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body) } },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("the started server", () => {
  let store: ServerStore | undefined;
  let server: ServerProcess | undefined;
  afterEach(async () => {
    if (server && server.proc.exitCode === null) {
      server.proc.kill("SIGKILL");
      await server.exited;
    }
    await store?.drop();
    server = undefined;
    store = undefined;
  });

  it("stores what it acknowledges over real HTTP and answers health checks", async () => {
    store = await createServerStore();
    server = await startServerProcess({ ...store.env, CALLBACK_TOKEN: "e2e-token" });
    const agent = new http.Agent({ keepAlive: true });

    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready" });

    const ok = await postForm(agent, server.port, "/callbacks/smsc?token=e2e-token", "id=E2E1&phone=79161234567&status=1&err=0&ts=1717585407&type=0&cost=3.45");
    expect(ok).toEqual({ status: 200, text: "OK" });
    const hlr = await postForm(agent, server.port, "/callbacks/smsc?token=e2e-token", "id=E2E2&phone=79261234567&status=1&err=0&type=4&imsi=250021234567891&mcc=250&mnc=02&cn=Russian+Federation&net=MegaFon&rcn=Turkey&rnet=Turkcell");
    expect(hlr.status).toBe(200);
    const denied = await postForm(agent, server.port, "/callbacks/smsc?token=wrong", "id=E2E3&phone=79161234567&status=1");
    expect(denied.status).toBe(401);

    const list = await fetch(`${server.url}/v1/callbacks`);
    expect(list.status).toBe(200);
    const ids = ((await list.json()) as { items: { smsc_id: string }[] }).items.map((i) => i.smsc_id).sort();
    expect(ids).toEqual(["E2E1", "E2E2"]);
    agent.destroy();

    server.proc.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    // The token never reaches the logs.
    expect(server.output()).not.toContain("e2e-token");

    const db = await store.open();
    try {
      const [hlrRow] = await db.query<Record<string, unknown>>("SELECT phone, mnc, roaming, roaming_network FROM hlr_results WHERE smsc_id = 'E2E2'");
      expect(hlrRow).toEqual({ phone: "79261234567", mnc: "02", roaming: true, roaming_network: "Turkcell" });
      const [message] = await db.query<Record<string, unknown>>("SELECT status, err, final, cost::text AS cost FROM messages WHERE smsc_id = 'E2E1'");
      expect(message).toEqual({ status: 1, err: 0, final: true, cost: "3.4500" });
    } finally {
      await db.close();
    }
  });

  it("on SIGTERM under load, exits 0 and every callback that got 200 is stored", async () => {
    store = await createServerStore();
    server = await startServerProcess(store.env);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 100 });
    const total = 600;
    let answered = 0;
    let answeredAfterSignal = 0;
    let signalled = false;
    const running = server;
    const answers: Promise<Answer>[] = [];
    for (let i = 0; i < total; i++) {
      const id = `TERM${i}`;
      const body = `id=${id}&phone=7916${String(1000000 + i)}&status=${i % 5 === 0 ? 20 : 1}&err=0&ts=${1717585400 + i}`;
      answers.push(
        postForm(agent, running.port, "/callbacks/smsc", body).then(
          (r) => {
            answered++;
            if (signalled && r.status === 200) answeredAfterSignal++;
            if (answered >= 200 && !signalled) {
              signalled = true;
              running.proc.kill("SIGTERM");
            }
            return { id, status: r.status };
          },
          () => ({ id, status: "error" as const }),
        ),
      );
    }
    const results = await Promise.all(answers);
    agent.destroy();
    expect(signalled).toBe(true);
    expect(await server.exited).toBe(0);
    // Some requests were still in flight when the signal came, and were finished, not dropped.
    expect(answeredAfterSignal).toBeGreaterThan(0);

    const acknowledged = results.filter((r) => r.status === 200).map((r) => r.id);
    console.log(`SIGTERM test: ${acknowledged.length} acknowledged (${answeredAfterSignal} after the signal), ${results.filter((r) => r.status === 503).length} answered 503, ${results.filter((r) => r.status === "error").length} refused`);
    expect(acknowledged.length).toBeGreaterThanOrEqual(200);
    // Nothing but 200, 503 or a refused/closed connection.
    for (const r of results) expect([200, 503, "error"]).toContain(r.status);

    const db = await store.open();
    try {
      const rows = await db.query<{ smsc_id: string }>("SELECT smsc_id FROM callbacks WHERE smsc_id LIKE 'TERM%'");
      const stored = new Set(rows.map((r) => r.smsc_id));
      const lost = acknowledged.filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
      expect(rows.length).toBe(stored.size); // stored once each
    } finally {
      await db.close();
    }
  });

  it("a second process on the same embedded database exits 2 and says what to do", async () => {
    const pgStore = await createServerStoreForPglite();
    store = pgStore;
    server = await startServerProcess(pgStore.env);
    const second = await startServerProcess(pgStore.env).then(
      () => null,
      (err: Error) => err.message,
    );
    expect(second).toMatch(/exited with 2/);
    expect(second).toMatch(/stop the server or set DATABASE_URL/);
  });
});

async function createServerStoreForPglite(): Promise<ServerStore> {
  const saved = process.env.DATABASE_URL;
  delete process.env.DATABASE_URL;
  try {
    return await createServerStore();
  } finally {
    if (saved !== undefined) process.env.DATABASE_URL = saved;
  }
}
