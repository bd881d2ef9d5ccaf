import { createDb } from "./src/db/client.js";
import { EVIDENCE_FILTER } from "./src/domain/verdict.js";
const db = await createDb({ databaseUrl: process.argv[2], pgliteDir: "", poolSize: 1 });
const phones = JSON.stringify(Array.from({ length: 5000 }, (_, i) => `79${String(50000 + i * 7).padStart(9, "0")}`));
const ints = (n: number) => `ARRAY(SELECT value::int FROM json_array_elements_text($${n}::text::json))`;
const DECIDING = (t: string) => `(${t}.status = ANY(${ints(3)}) OR (${t}.status <> ALL(${ints(4)}) AND (${t}.status = ANY(${ints(5)}) OR ${t}.err = ANY(${ints(6)}))))`;
const H = (f: string, l: string) => `(SELECT 'hlr' AS kind, h.event_at AS at, h.status::int AS status, h.err FROM hlr_results h WHERE h.phone = p.phone ${f} AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.account = h.account AND m.smsc_id = h.smsc_id AND m.phone = h.phone AND m.type <> 4) ORDER BY h.event_at DESC LIMIT ${l})`;
const M = (f: string, l: string) => `(SELECT CASE WHEN m.type = 5 THEN 'ping' ELSE 'delivery' END AS kind, m.status_at AS at, m.status::int AS status, m.err FROM messages m WHERE m.phone = p.phone AND m.final AND m.status_at IS NOT NULL AND m.type IS DISTINCT FROM 4 ${f} ORDER BY m.status_at DESC LIMIT ${l})`;
const q = `EXPLAIN (ANALYZE, BUFFERS off, TIMING off, SUMMARY on) WITH p AS (SELECT DISTINCT value AS phone FROM json_array_elements_text($1::text::json)) SELECT p.phone, e.kind, e.at, e.status, e.err FROM p CROSS JOIN LATERAL (${H("AND " + DECIDING("h"), "$2")} UNION ALL ${M("AND " + DECIDING("m"), "$2")} UNION ALL ${H("AND NOT " + DECIDING("h"), "1")} UNION ALL ${M("AND NOT " + DECIDING("m"), "1")}) e`;
const params = [phones, 200, JSON.stringify(EVIDENCE_FILTER.decidingStatuses), JSON.stringify(EVIDENCE_FILTER.neutralStatuses), JSON.stringify(EVIDENCE_FILTER.successStatuses), JSON.stringify(EVIDENCE_FILTER.decidingErrs)];
for (let i = 0; i < 3; i++) { const r = await db.query<any>(q, params); console.log(r.slice(-2).map((x: any) => x["QUERY PLAN"]).join(" | ")); }
const r = await db.query<any>(q, params); console.log(r.map((x: any) => x["QUERY PLAN"]).join("\n"));
for (const sql of [
  `EXPLAIN (ANALYZE, TIMING off, SUMMARY on) SELECT phone, country_iso, mcc, mnc, imsi, msc, network, roaming, roaming_country, roaming_network, last_hlr_at, delivered_count, failed_count, last_delivered_at FROM numbers WHERE phone IN (SELECT value FROM json_array_elements_text($1::text::json))`,
]) { for (let i = 0; i < 2; i++) { const x = await db.query<any>(sql, [phones]); console.log(x.map((y: any) => y["QUERY PLAN"]).join("\n")); } }
await db.close();
