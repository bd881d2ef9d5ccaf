// The writer's queue is bounded: when Postgres is slower than the input, callbacks get 503 with Retry-After (SMSC
// retries), /readyz fails while the queue is full, the process's memory stays bounded, nothing acknowledged is lost,
// and once the database is fast again callbacks get 200 without a restart.
//
// The service (dist/main.js, its own process) runs with WRITER_MAX_QUEUE=50, WRITER_MAX_BATCH=10 and two writer
// lanes (WRITER_CONCURRENCY=2), and reaches its database through a proxy that can add latency. Two ways of being
// slow: a lock that stops the writer outright (LOCK TABLE callback_keys from another connection), and latency on
// every round trip to Postgres.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/client.js";
import { createServerStore, startServerProcess, type ServerProcess, type ServerStore } from "../helpers/server-process.js";
import { postCallback, request, statusBody, type Answer } from "./support/http.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";
import { exitReport, MB, rssBytes, sampleRss, sleep, stopServer, until } from "./support/process.js";

const MAX_QUEUE = 50;
const MAX_BATCH = 10;
/** Writer lanes: each holds one batch being written, outside the queue. */
const LANES = 2;
const FLOOD = 2000;
const MAX_RSS_GROWTH = 150 * MB;

type Outcome = { id: string; status: number; retryAfter: string | null; text: string };

const phoneOf = (n: number) => `7903${String(n % 10_000_000).padStart(7, "0")}`;

describe("bounded writer queue", () => {
  let store: ServerStore;
  let proxy: TcpProxy;
  let server: ServerProcess;
  let db: Database;
  let directUrl: string;
  let serial = 0;
  const outcomes: Outcome[] = [];

  const send = async (prefix: string): Promise<Outcome> => {
    const n = serial++;
    const id = `${prefix}${n}`;
    const a: Answer = await postCallback(server.url, statusBody(id, phoneOf(n), 1, 0, 1717585400 + n));
    const o = { id, status: a.status, retryAfter: a.retryAfter, text: a.text };
    outcomes.push(o);
    return o;
  };
  /** `n` callbacks, at most 40 in flight: fewer than the queue holds, so a healthy service takes them all. */
  const sendSteadily = async (prefix: string, n: number): Promise<Outcome[]> => {
    const out: Outcome[] = [];
    for (let i = 0; i < n; i += 40) out.push(...(await Promise.all(Array.from({ length: Math.min(40, n - i) }, () => send(prefix)))));
    return out;
  };
  const resend = async (id: string, n: number): Promise<Outcome> => {
    const a = await postCallback(server.url, statusBody(id, phoneOf(n), 1, 0, 1717585400 + n));
    const o = { id, status: a.status, retryAfter: a.retryAfter, text: a.text };
    outcomes.push(o);
    return o;
  };
  const readiness = async () => {
    const r = await request(`${server.url}/readyz`, { timeoutMs: 10_000 });
    let writer: string | undefined;
    try {
      writer = (JSON.parse(r.text) as { checks?: { writer?: string } }).checks?.writer;
    } catch {
      writer = undefined;
    }
    return { status: r.status, writer };
  };

  beforeAll(async () => {
    store = await createServerStore();
    directUrl = store.env.DATABASE_URL!;
    const target = new URL(directUrl);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(directUrl);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    server = await startServerProcess({ ...store.env, DATABASE_URL: viaProxy.toString(), WRITER_MAX_QUEUE: String(MAX_QUEUE), WRITER_MAX_BATCH: String(MAX_BATCH), WRITER_CONCURRENCY: String(LANES) });
    db = await store.open();
    for (let i = 0; i < 20; i++) expect((await send("WARM")).status).toBe(200);
  });

  afterAll(async () => {
    const exited = exitReport(server);
    if (exited) console.log(exited);
    await db?.close();
    await stopServer(server);
    await proxy?.close();
    await store?.drop();
  });

  it("answers 503 with Retry-After while a lock stops the writer, holds at most queue + lanes × batch requests, and recovers", async () => {
    const pid = server.proc.pid!;
    const baseline = rssBytes(pid);
    const locker = postgres(directUrl, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let taken!: () => void;
    const lockTaken = new Promise<void>((resolve) => (taken = resolve));
    const lockTx = locker.begin(async (tx) => {
      await tx`LOCK TABLE callback_keys IN ACCESS EXCLUSIVE MODE`;
      taken();
      await released;
    });
    const safety = setTimeout(release, 40_000); // never hold the lock longer than this, whatever fails
    const sampler = sampleRss(pid);
    try {
      await lockTaken;
      const lockedAt = Date.now();
      const flood = Array.from({ length: FLOOD }, () => send("LOCK"));
      const flooded = outcomes.length;
      const answered = () => outcomes.length - flooded;

      // Everything but what the writer holds (a batch being written per lane, a full queue) is answered while locked.
      await until(() => answered() >= FLOOD - (MAX_QUEUE + LANES * MAX_BATCH), 30_000, "answers while the database is locked");
      const ready = await readiness();
      const whileLocked = outcomes.slice(flooded);
      console.log(`locked: ${answered()} of ${FLOOD} answered in ${Date.now() - lockedAt} ms; /readyz ${JSON.stringify(ready)}`);
      expect(whileLocked.filter((o) => o.status !== 503)).toEqual([]); // nothing can be committed while locked
      for (const o of whileLocked) expect(o.retryAfter).toMatch(/^\d+$/);
      await sleep(300);
      expect(answered()).toBeLessThanOrEqual(FLOOD - MAX_QUEUE); // the queue is really full, not drained
      expect(ready).toEqual({ status: 503, writer: "queue_full" });
      expect(server.proc.exitCode).toBeNull();

      release();
      await lockTx;
      const results = await Promise.all(flood);
      const statuses = new Map<number, number>();
      for (const o of results) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
      console.log(`flood of ${FLOOD}: ${JSON.stringify(Object.fromEntries(statuses))}; RSS +${((sampler.peak - baseline) / MB).toFixed(1)} MB`);
      expect(results.filter((o) => o.status !== 200 && o.status !== 503)).toEqual([]);
      expect(results.filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(MAX_QUEUE);
    } finally {
      clearTimeout(safety);
      release();
      await lockTx.catch(() => {});
      await locker.end();
    }
    const peak = sampler.stop();
    expect(peak - baseline).toBeLessThan(MAX_RSS_GROWTH);

    // Fast again: new callbacks get 200 and /readyz recovers, without a restart.
    await until(async () => (await readiness()).status === 200, 10_000, "/readyz back to 200");
    const after = await sendSteadily("AFTERLOCK", 100);
    expect(after.filter((o) => o.status !== 200)).toEqual([]);
    expect(server.proc.exitCode).toBeNull();
  });

  it("answers 503 with Retry-After under sustained load on a slow database, keeps committing, and recovers", async () => {
    const pid = server.proc.pid!;
    const baseline = rssBytes(pid);
    const sampler = sampleRss(pid);
    proxy.setDelay(25); // every round trip to Postgres takes 50 ms more: a batch needs several
    const first = outcomes.length;
    const readySeen: string[] = [];
    let running = true;
    const deadline = Date.now() + 6_000;
    const prober = (async () => {
      for (let i = 0; i < 100 && running; i++) {
        const r = await readiness();
        readySeen.push(`${r.status}:${r.writer}`);
        await sleep(100);
      }
    })();
    // 100 clients, each sending one callback after another; like SMSC, a client refused with 503 waits a little.
    const workers = Array.from({ length: 100 }, async () => {
      for (let i = 0; i < 40 && Date.now() < deadline; i++) {
        if ((await send("SLOW")).status === 503) await sleep(100);
      }
    });
    await Promise.all(workers);
    running = false;
    await prober;
    proxy.setDelay(0);
    const peak = sampler.stop();

    const slow = outcomes.slice(first);
    const count = (s: number) => slow.filter((o) => o.status === s).length;
    console.log(
      `slow database: ${slow.length} callbacks in 6 s: ${count(200)} × 200, ${count(503)} × 503; ` +
        `/readyz ${[...new Set(readySeen)].join(", ")}; RSS +${((peak - baseline) / MB).toFixed(1)} MB`,
    );
    expect(slow.filter((o) => o.status !== 200 && o.status !== 503)).toEqual([]);
    expect(count(503)).toBeGreaterThan(0); // the input outran the database
    expect(count(200)).toBeGreaterThan(0); // and the writer kept committing meanwhile
    for (const o of slow.filter((o) => o.status === 503)) expect(o.retryAfter).toMatch(/^\d+$/);
    expect(readySeen).toContain("503:queue_full");
    expect(peak - baseline).toBeLessThan(MAX_RSS_GROWTH);
    expect(server.proc.exitCode).toBeNull();

    await until(async () => (await readiness()).status === 200, 10_000, "/readyz back to 200");
    const after = await sendSteadily("AFTERSLOW", 100);
    expect(after.filter((o) => o.status !== 200)).toEqual([]);
  });

  it("stores every acknowledged callback exactly once, and the refused ones once SMSC retries them", async () => {
    // SMSC retries what got 503: send each refused callback again (40 at a time, so the queue never fills).
    const refused = [...new Set(outcomes.filter((o) => o.status !== 200).map((o) => o.id))].filter((id) => !outcomes.some((o) => o.id === id && o.status === 200));
    const retried: Outcome[] = [];
    for (let i = 0; i < refused.length; i += 40) {
      retried.push(...(await Promise.all(refused.slice(i, i + 40).map((id) => resend(id, Number(/\d+$/.exec(id)![0]))))));
    }
    expect(retried.filter((o) => o.status !== 200)).toEqual([]);

    const rows = await db.query<{ smsc_id: string; n: number }>("SELECT smsc_id, count(*)::int AS n FROM callbacks GROUP BY smsc_id");
    const stored = new Map(rows.map((r) => [r.smsc_id, r.n]));
    const acknowledged = new Set(outcomes.filter((o) => o.status === 200).map((o) => o.id));
    const sent = new Set(outcomes.map((o) => o.id));
    console.log(`${sent.size} distinct callbacks, ${refused.length} refused at first and retried, ${rows.length} stored`);
    expect([...acknowledged].filter((id) => stored.get(id) !== 1)).toEqual([]);
    expect([...stored].filter(([, n]) => n !== 1)).toEqual([]);
    expect(stored.size).toBe(sent.size);
    const [events] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM status_events");
    expect(events!.n).toBe(sent.size);
  });
});
