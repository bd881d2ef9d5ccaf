// Two instances sharing one Postgres receive the same stream of callbacks, interleaved and concurrently: every
// callback is stored once, nothing deadlocks, and the derived figures equal what one instance alone gives.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { createDb, type Database } from "../../src/db/client.js";
import { createLogger } from "../../src/http/logger.js";
import { startService, type RunningService } from "../../src/server.js";
import { createServerDatabase } from "../helpers/db.js";

function stream(): string[] {
  const bodies: string[] = [];
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let m = 0; m < 300; m++) {
    const phone = `7916${String(3000000 + (m % 120)).padStart(7, "0")}`; // numbers shared by several messages
    for (const status of [0, 1, 4, 20, 3].filter(() => rand() < 0.6)) {
      const err = status === 20 ? 6 : 0;
      bodies.push(`id=TWO${m}&phone=${phone}&status=${status}&err=${err}&ts=${1717585400 + Math.floor(rand() * 1000)}&type=0&cost=1.50&mccmnc=25001`);
    }
    if (m % 10 === 0) bodies.push(`id=HLR${m}&phone=${phone}&status=1&err=0&type=4&mcc=250&mnc=02&cn=RU&net=MegaFon&rcn=&rnet=&ts=${1717585000 + m}`);
  }
  return bodies;
}

async function snapshot(db: Database) {
  return {
    callbacks: await db.query("SELECT count(*)::int AS n FROM callbacks"),
    messages: await db.query("SELECT account, smsc_id, phone, status, err, final, cost::text AS cost, delivered_at FROM messages ORDER BY smsc_id, phone"),
    numbers: await db.query("SELECT phone, delivered_count, failed_count, mcc, mnc, last_status, last_err FROM numbers ORDER BY phone"),
    events: await db.query("SELECT count(*)::int AS n FROM status_events"),
    rollups: await db.query(
      "SELECT hour, mcc, mnc, type, status, err, sum(messages)::int AS messages, sum(cost)::text AS cost, latency FROM delivery_rollups GROUP BY hour, mcc, mnc, type, status, err, latency HAVING sum(messages) <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 9",
    ),
  };
}

async function post(base: string, body: string): Promise<number> {
  const r = await fetch(`${base}/callbacks/smsc`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
  await r.text();
  return r.status;
}

describe("two instances, one database", () => {
  const dbs: { url: string; drop: () => Promise<void> }[] = [];
  const services: RunningService[] = [];
  const start = async (url: string) => {
    const s = await startService(parseConfig({ DATABASE_URL: url, PORT: "0", LOG_LEVEL: "silent", WRITER_MAX_BATCH: "50" }), createLogger("silent"));
    services.push(s);
    return `http://127.0.0.1:${s.port}`;
  };
  beforeAll(async () => {
    dbs.push(await createServerDatabase(process.env.DATABASE_URL!), await createServerDatabase(process.env.DATABASE_URL!));
  });
  afterAll(async () => {
    for (const s of services) await s.stop();
    for (const d of dbs) await d.drop();
  });

  it("stores each callback once and derives what one instance alone derives", async () => {
    const bodies = stream();
    const [shared, alone] = [dbs[0]!, dbs[1]!];
    const a = await start(shared.url);
    const b = await start(shared.url);
    const single = await start(alone.url);

    // Every callback goes to both instances (SMSC retrying against another instance), interleaved, concurrently.
    const statuses: number[] = [];
    for (let i = 0; i < bodies.length; i += 40) {
      const chunk = bodies.slice(i, i + 40);
      const sends = chunk.flatMap((body, j) => (j % 2 === 0 ? [post(a, body), post(b, body)] : [post(b, body), post(a, body)]));
      statuses.push(...(await Promise.all(sends)));
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    for (let i = 0; i < bodies.length; i += 40) await Promise.all(bodies.slice(i, i + 40).map((body) => post(single, body)));

    const dbShared = await createDb({ databaseUrl: shared.url, pgliteDir: "", poolSize: 1 });
    const dbAlone = await createDb({ databaseUrl: alone.url, pgliteDir: "", poolSize: 1 });
    try {
      const [got, want] = [await snapshot(dbShared), await snapshot(dbAlone)];
      expect(got.callbacks).toEqual([{ n: bodies.length }]);
      expect(got.events).toEqual(want.events);
      expect(got.messages).toEqual(want.messages);
      expect(got.numbers).toEqual(want.numbers);
      expect(got.rollups).toEqual(want.rollups);
    } finally {
      await dbShared.close();
      await dbAlone.close();
    }
  });
});
