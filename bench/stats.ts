// Statistics as data grows: GET /v1/stats/delivery?group_by=day,operator over a week, with `--scale` status events
// stored, against the same request with a tenth of them. The events, messages and their rollup cells are written in
// bulk SQL shaped like the writer's (sending a million callbacks through HTTP would take the whole run).
import autocannon from "autocannon";
import { createDb } from "../src/db/client.js";
import { migrate } from "../src/db/migrate.js";
import { LATENCY_BUCKETS } from "../src/domain/rollup.js";
import { createServerDatabase } from "../test/helpers/db.js";
import { ENTRY } from "../test/helpers/server-process.js";
import { duration, rows, scale, startProcess, stopProcess } from "./support.js";

const KEY = "bench-stats-key-0123456789abcdef";

async function statsRate(events: number) {
  const database = await createServerDatabase(process.env.DATABASE_URL!);
  try {
    const db = await createDb({ databaseUrl: database.url, pgliteDir: "", poolSize: 2 });
    await migrate(db);
    // One message per event, spread evenly over the last week whatever their number (so both sides cover the same
    // hours and the answer has the same groups), 12 operators, a mix of statuses and errs.
    await db.query(
      `INSERT INTO messages (account, smsc_id, phone, type, status, err, final, status_at, cost, sender, mcc, mnc, country_iso, operator_mcc,
         operator_mnc, placed_at, first_status_at, last_status_at, created_at, updated_at)
       SELECT 'default', 'S' || g, '7916' || lpad((g % 10000000)::text, 7, '0'), 0, s.status, s.err, true, t.at, 3.45, 'SHOP', '250',
         lpad((g % 12 + 1)::text, 2, '0'), 'RU', '250', lpad((g % 12 + 1)::text, 2, '0'), t.at, t.at, t.at, now(), now()
       FROM generate_series(0, $1::int - 1) AS g,
         LATERAL (SELECT now() - (g::bigint * 604800 / $1::int) * interval '1 second' AS at) t,
         LATERAL (SELECT (ARRAY[1, 1, 1, 1, 20, 3, 22, 25])[g % 8 + 1] AS status, (ARRAY[0, 0, 0, 0, 6, 0, 0, 248])[g % 8 + 1] AS err) s`,
      [events],
    );
    await db.query(
      `INSERT INTO status_events (account, smsc_id, phone, type, status, err, event_at, received_at, callback_id)
       SELECT account, smsc_id, phone, type, status, err, status_at, status_at, id FROM messages`,
    );
    await db.query(
      `INSERT INTO delivery_rollups (hour, account, mcc, mnc, country, type, sender, campaign, status, err, messages, cost, latency, latency_from_registered)
       SELECT date_trunc('hour', placed_at), account, operator_mcc, operator_mnc, country_iso, type, sender, campaign, status, err, count(*), sum(cost),
         array_fill(0, ARRAY[${LATENCY_BUCKETS}]), 0
       FROM messages GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10`,
    );
    await db.exec("VACUUM ANALYZE"); // as autovacuum would after a bulk load
    await db.close();
    const service = await startProcess([process.execPath, ENTRY], { DATABASE_URL: database.url, API_KEYS: KEY, API_RATE_PER_SEC: "1000000000", API_RATE_BURST: "1000000000" });
    try {
      const r = await autocannon({
        url: `http://127.0.0.1:${service.port}/v1/stats/delivery?group_by=day,operator`,
        connections: 10,
        duration,
        headers: { authorization: `Bearer ${KEY}` },
      });
      return { rps: r.requests.average, p50: r.latency.p50, non2xx: r.non2xx };
    } finally {
      await stopProcess(service.proc);
    }
  } finally {
    await database.drop();
  }
}

export async function benchStats(): Promise<void> {
  const small = await statsRate(Math.floor(scale / 10));
  const large = await statsRate(scale);
  rows.push({
    scenario: `statistics, ${scale.toLocaleString("en-US")} vs ${Math.floor(scale / 10).toLocaleString("en-US")} status events`,
    measured: "GET /v1/stats/delivery?group_by=day,operator requests/s",
    value: large.rps,
    baseline: small.rps,
    ratio: large.rps / small.rps,
    aim: "≥ 0.5 (at most twice as slow)",
    note: `p50 ${large.p50} ms vs ${small.p50} ms; non-2xx ${large.non2xx + small.non2xx}`,
  });
}
