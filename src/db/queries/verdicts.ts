// Number verdicts: what the database holds about many numbers at once (a few statements for any number of phones),
// folded into answers by the pure rules in domain/verdict.ts. Also the err-code statistics read from rollups.
import type { Sql } from "../client.js";
import { findOptedOut } from "./opt-outs.js";
import type { NormalizedPhone } from "../../domain/phone.js";
import {
  EVIDENCE_FILTER,
  buildNumberVerdict,
  type EvidenceInput,
  type EvidenceKind,
  type NumberFacts,
  type NumberVerdict,
} from "../../domain/verdict.js";

/** Per number and per source (HLR answers; message outcomes), at most this many of the newest rows are read. */
export const EVIDENCE_SCAN_LIMIT = 200;

const toDate = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string | Date));
const phonesJson = (phones: readonly string[]) => JSON.stringify([...new Set(phones)]);

/** The `numbers` rows of these phones. */
export async function findNumberFacts(db: Sql, phones: readonly string[]): Promise<Map<string, NumberFacts>> {
  const result = new Map<string, NumberFacts>();
  if (phones.length === 0) return result;
  const rows = await db.query<Record<string, unknown>>(
    `SELECT phone, country_iso, mcc, mnc, imsi, msc, network, roaming, roaming_country, roaming_network, last_hlr_at,
            delivered_count, failed_count, last_delivered_at
     FROM numbers
     WHERE phone = ANY(ARRAY(SELECT json_array_elements_text($1::text::json)))`,
    [phonesJson(phones)],
  );
  for (const r of rows) {
    result.set(r.phone as string, {
      countryIso: (r.country_iso as string | null) ?? null,
      mcc: (r.mcc as string | null) ?? null,
      mnc: (r.mnc as string | null) ?? null,
      imsi: (r.imsi as string | null) ?? null,
      msc: (r.msc as string | null) ?? null,
      network: (r.network as string | null) ?? null,
      roaming: (r.roaming as boolean | null) ?? null,
      roamingCountry: (r.roaming_country as string | null) ?? null,
      roamingNetwork: (r.roaming_network as string | null) ?? null,
      lastHlrAt: toDate(r.last_hlr_at),
      deliveredCount: Number(r.delivered_count ?? 0),
      failedCount: Number(r.failed_count ?? 0),
      lastDeliveredAt: toDate(r.last_delivered_at),
    });
  }
  return result;
}

/**
 * The evidence for these phones, newest first per phone:
 * - every HLR answer (`hlr_results`) of an HLR request (its message is type 4, or unknown);
 * - every message's outcome: its current final status, err and status time. Type 5 (ping) is a ping result;
 *   other types (not 4) are delivery outcomes.
 * A message counts once, with its current status (design.md's order-independent rule), so a message that was
 * delivered and then read is one outcome, not two; an HLR answer that arrived on a message of another type (a
 * delivery status that carried mcc/mnc fields) counts as that message's outcome only.
 */
/** Rows that may decide a verdict (EVIDENCE_FILTER, passed as $3-$6): neutral outcomes are not read at all. */
const DECIDING = (t: string) => {
  const ints = (n: number) => `ARRAY(SELECT value::int FROM json_array_elements_text($${n}::text::json))`;
  return `(${t}.status = ANY(${ints(3)}) OR (${t}.status <> ALL(${ints(4)}) AND (${t}.status = ANY(${ints(5)}) OR ${t}.err = ANY(${ints(6)}))))`;
};

const HLR_EVIDENCE = (filter: string, limit: string) => `
       (SELECT 'hlr' AS kind, h.event_at AS at, h.status::int AS status, h.err
        FROM hlr_results h
        WHERE h.phone = p.phone ${filter}
          AND NOT EXISTS (SELECT 1 FROM messages m
                          WHERE m.account = h.account AND m.smsc_id = h.smsc_id AND m.phone = h.phone AND m.type <> 4)
        ORDER BY h.event_at DESC
        LIMIT ${limit})`;

const MESSAGE_EVIDENCE = (filter: string, limit: string) => `
       (SELECT CASE WHEN m.type = 5 THEN 'ping' ELSE 'delivery' END AS kind, m.status_at AS at, m.status::int AS status, m.err
        FROM messages m
        WHERE m.phone = p.phone AND m.final AND m.status_at IS NOT NULL AND m.type IS DISTINCT FROM 4 ${filter}
        ORDER BY m.status_at DESC
        LIMIT ${limit})`;

export async function findVerdictEvidence(
  db: Sql,
  phones: readonly string[],
  limit: number = EVIDENCE_SCAN_LIMIT,
): Promise<Map<string, EvidenceInput[]>> {
  const result = new Map<string, EvidenceInput[]>();
  if (phones.length === 0) return result;
  const rows = await db.query<{ phone: string; kind: EvidenceKind; at: string | Date; status: number; err: number | null }>(
    `WITH p AS (SELECT DISTINCT value AS phone FROM json_array_elements_text($1::text::json))
     SELECT p.phone, e.kind, e.at, e.status, e.err
     FROM p CROSS JOIN LATERAL (
       ${HLR_EVIDENCE("AND " + DECIDING("h"), "$2")}
       UNION ALL
       ${MESSAGE_EVIDENCE("AND " + DECIDING("m"), "$2")}
       -- The newest outcome that cannot decide, from each source: enough to tell "only neutral answers" from none.
       UNION ALL
       ${HLR_EVIDENCE("AND NOT " + DECIDING("h"), "1")}
       UNION ALL
       ${MESSAGE_EVIDENCE("AND NOT " + DECIDING("m"), "1")}
     ) e`,
    [
      phonesJson(phones),
      limit,
      JSON.stringify(EVIDENCE_FILTER.decidingStatuses),
      JSON.stringify(EVIDENCE_FILTER.neutralStatuses),
      JSON.stringify(EVIDENCE_FILTER.successStatuses),
      JSON.stringify(EVIDENCE_FILTER.decidingErrs),
    ],
  );
  for (const r of rows) {
    const list = result.get(r.phone) ?? [];
    list.push({ kind: r.kind, at: new Date(r.at), status: Number(r.status), err: r.err === null ? null : Number(r.err) });
    result.set(r.phone, list);
  }
  return result;
}

export type VerdictOptions = { now: Date; maxAgeMs: number | null };

/**
 * Verdicts for many numbers: three statements whatever their count (numbers, evidence, opt-outs). Answers are in
 * the order given; a phone given twice is looked up once.
 */
export async function findNumberVerdicts(db: Sql, numbers: readonly NormalizedPhone[], options: VerdictOptions): Promise<NumberVerdict[]> {
  const phones = numbers.map((n) => n.phone);
  const [facts, evidence, optedOut] = await Promise.all([
    findNumberFacts(db, phones),
    findVerdictEvidence(db, phones),
    findOptedOut(db, phones),
  ]);
  return numbers.map((number) =>
    buildNumberVerdict({
      number,
      facts: facts.get(number.phone) ?? null,
      evidence: evidence.get(number.phone) ?? [],
      optedOut: optedOut.has(number.phone),
      options,
    }),
  );
}

export type ErrCount = { err: number; count: number };

/**
 * Messages per `err` code from the delivery rollups, for cells whose hour is in [from, to). `types` null leaves
 * out HLR and ping requests (types 4 and 5); otherwise only those types count (a cell without a type is type 0).
 */
export async function countMessagesByErr(
  db: Sql,
  f: { from: Date; to: Date; types: readonly number[] | null; account?: string | undefined },
): Promise<ErrCount[]> {
  const rows = await db.query<{ err: number; count: string | number }>(
    `SELECT err, sum(messages)::bigint::text AS count
     FROM delivery_rollups
     WHERE hour >= $1 AND hour < $2 AND err IS NOT NULL
       AND (($3::text IS NULL AND (type IS NULL OR type NOT IN (4, 5)))
            OR coalesce(type, 0) IN (SELECT value::int FROM json_array_elements_text($3::text::json)))
       AND ($4::text IS NULL OR account = $4)
     GROUP BY err
     HAVING sum(messages) > 0
     ORDER BY sum(messages) DESC, err`,
    [f.from, f.to, f.types === null ? null : JSON.stringify(f.types), f.account ?? null],
  );
  return rows.map((r) => ({ err: Number(r.err), count: Number(r.count) }));
}
