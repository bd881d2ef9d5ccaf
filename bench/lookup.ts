// Number lookup: GET /v1/numbers/{phone} over `--scale` known numbers (each with an HLR answer), against bare Hono
// plus one prepared SELECT of the number's row, in the same run, on the same database.
import autocannon from "autocannon";
import { createDb, DEFAULT_POOL_SIZE } from "../src/db/client.js";
import { migrate } from "../src/db/migrate.js";
import { createServerDatabase } from "../test/helpers/db.js";
import { ENTRY } from "../test/helpers/server-process.js";
import { duration, rows, scale, startProcess, stopProcess } from "./support.js";

const KEY = "bench-lookup-key-0123456789abcdef";
const phoneOf = (i: number) => `7916${String(i % 10_000_000).padStart(7, "0")}`;

async function hammer(port: number, headers: Record<string, string>) {
  const r = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 50,
    duration,
    requests: [{ method: "GET", headers, setupRequest: (req) => ({ ...req, path: `/v1/numbers/${phoneOf(Math.floor(Math.random() * scale))}` }) }],
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx };
}

export async function benchLookup(): Promise<void> {
  const database = await createServerDatabase(process.env.DATABASE_URL!);
  try {
    const db = await createDb({ databaseUrl: database.url, pgliteDir: "", poolSize: 2 });
    await migrate(db);
    await db.query(
      `INSERT INTO numbers (phone, country_iso, mcc, mnc, network, country_name, roaming, last_hlr_at, last_hlr_status, last_hlr_err,
         delivered_count, failed_count, first_seen_at, last_seen_at)
       SELECT '7916' || lpad((g % 10000000)::text, 7, '0'), 'RU', '250', lpad((g % 3 + 1)::text, 2, '0'), 'MTS', 'Russian Federation', false,
         now() - (g % 1000) * interval '1 minute', 1, 0, g % 5, g % 2, now() - interval '30 days', now()
       FROM generate_series(0, $1::int - 1) AS g`,
      [scale],
    );
    await db.query(
      `INSERT INTO hlr_results (account, smsc_id, phone, status, err, imsi, mcc, mnc, country, network, roaming, event_at, received_at, callback_id)
       SELECT 'default', 'B' || g, '7916' || lpad((g % 10000000)::text, 7, '0'), 1, (g % 7 = 0)::int * 6, '25001' || lpad(g::text, 10, '0'),
         '250', '01', 'Russian Federation', 'MTS', false, now() - (g % 1000) * interval '1 minute', now(), g
       FROM generate_series(0, $1::int - 1) AS g`,
      [scale],
    );
    await db.exec("VACUUM ANALYZE"); // as autovacuum would after a bulk load: index-only scans need the visibility map
    await db.close();

    // Both with the service's default number of connections.
    const pool = { DATABASE_URL: database.url, DATABASE_POOL_SIZE: String(DEFAULT_POOL_SIZE) };
    const baseline = await startProcess([process.execPath, "--import", "tsx", "bench/lookup-baseline.ts"], pool);
    const b = await hammer(baseline.port, {}).finally(() => stopProcess(baseline.proc));
    const service = await startProcess([process.execPath, ENTRY], { ...pool, API_KEYS: KEY, API_RATE_PER_SEC: "1000000000", API_RATE_BURST: "1000000000" });
    const s = await hammer(service.port, { authorization: `Bearer ${KEY}` }).finally(() => stopProcess(service.proc));
    rows.push({
      scenario: `number lookup, ${scale.toLocaleString("en-US")} numbers`,
      measured: "GET /v1/numbers/{phone} requests/s",
      value: s.rps,
      baseline: b.rps,
      ratio: s.rps / b.rps,
      aim: "≥ 0.5",
      note: `${DEFAULT_POOL_SIZE} connections each; p50 ${s.p50} ms, p99 ${s.p99} ms, non-2xx ${s.non2xx} (baseline p50 ${b.p50}, p99 ${b.p99})`,
    });
  } finally {
    await database.drop();
  }
}
