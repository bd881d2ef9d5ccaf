// Number verdicts: what the database holds about many numbers at once (one statement for any number of phones),
// folded into answers by the pure rules in domain/verdict.ts. Also the err-code statistics read from rollups.
import { arrayParam, jsonColumn, type Sql } from "../client.js";
import { phoneHash } from "./erasure.js";
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

// A number's evidence, newest first:
// - every HLR answer (`hlr_results`) of an HLR request (its message is type 4, or unknown);
// - every message's outcome: its current final status, err and status time. Type 5 (ping) is a ping result;
//   other types (not 4) are delivery outcomes.
// A message counts once, with its current status (design.md's order-independent rule), so a message that was
// delivered and then read is one outcome, not two; an HLR answer that arrived on a message of another type (a
// delivery status that carried mcc/mnc fields) counts as that message's outcome only.

/** Rows that may decide a verdict (EVIDENCE_FILTER, passed as $3-$6): neutral outcomes are not read at all. */
const DECIDING = (t: string) =>
  `(${t}.status = ANY($3::int[]) OR (${t}.status <> ALL($4::int[]) AND (${t}.status = ANY($5::int[]) OR ${t}.err = ANY($6::int[]))))`;

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

const ms = (v: number | null): Date | null => (v === null ? null : new Date(v));
const epochMs = (col: string) => `(extract(epoch FROM ${col}) * 1000)::float8`;

/** EVIDENCE_FILTER's code lists as array parameters (fixed for the process's life). */
const FILTER_PARAMS = {
  decidingStatuses: arrayParam(EVIDENCE_FILTER.decidingStatuses),
  neutralStatuses: arrayParam(EVIDENCE_FILTER.neutralStatuses),
  successStatuses: arrayParam(EVIDENCE_FILTER.successStatuses),
  decidingErrs: arrayParam(EVIDENCE_FILTER.decidingErrs),
};

export type VerdictOptions = { now: Date; maxAgeMs: number | null };

type FactsJson = [
  countryIso: string | null,
  mcc: string | null,
  mnc: string | null,
  imsi: string | null,
  msc: string | null,
  network: string | null,
  roaming: boolean | null,
  roamingCountry: string | null,
  roamingNetwork: string | null,
  lastHlrAt: number | null,
  deliveredCount: number | null,
  failedCount: number | null,
  lastDeliveredAt: number | null,
];
type EvidenceJson = [kind: EvidenceKind, at: number, status: number, err: number | null];

// The statement, made once (whitespace folded).
// Evidence: at most $2 deciding rows per source, and the newest outcome that cannot decide, from each source
// (enough to tell "only neutral answers" from none).
const VERDICTS_SQL = (`WITH p AS (SELECT phone, hash FROM json_to_recordset($1::text::json) AS t(phone text, hash text))
     SELECT p.phone,
       (SELECT json_build_array(country_iso, mcc, mnc, imsi, msc, network, roaming, roaming_country, roaming_network,
                                ${epochMs("last_hlr_at")}, delivered_count, failed_count, ${epochMs("last_delivered_at")})
        FROM numbers WHERE numbers.phone = p.phone) AS facts,
       (SELECT json_agg(json_build_array(e.kind, ${epochMs("e.at")}, e.status, e.err)) FROM (
          ${HLR_EVIDENCE("AND " + DECIDING("h"), "$2")}
          UNION ALL
          ${MESSAGE_EVIDENCE("AND " + DECIDING("m"), "$2")}
          UNION ALL
          ${HLR_EVIDENCE("AND NOT " + DECIDING("h"), "1")}
          UNION ALL
          ${MESSAGE_EVIDENCE("AND NOT " + DECIDING("m"), "1")}
        ) e) AS evidence,
       (EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = p.phone AND o.opted_out)
        OR EXISTS (SELECT 1 FROM suppressions s WHERE s.phone_hash = p.hash)) AS opted_out
     FROM p`).replace(/\s+/g, " ");

/**
 * Verdicts for many numbers, in one statement whatever their count: per phone, its `numbers` row, its evidence (at
 * most `limit` deciding rows per source, and the newest neutral one) and whether it is opted out (by its opt-out
 * row, or by an erased number's suppression). Answers are in the order given; a phone given twice is looked up once.
 */
export async function findNumberVerdicts(
  db: Sql,
  numbers: readonly NormalizedPhone[],
  options: VerdictOptions,
  limit: number = EVIDENCE_SCAN_LIMIT,
): Promise<NumberVerdict[]> {
  if (numbers.length === 0) return [];
  const phones = [...new Set(numbers.map((n) => n.phone))];
  const rows = await db.query<{ phone: string; facts: FactsJson | string | null; evidence: EvidenceJson[] | string | null; opted_out: boolean }>(
    VERDICTS_SQL,
    [
      JSON.stringify(phones.map((phone) => ({ phone, hash: phoneHash(phone) }))),
      limit,
      FILTER_PARAMS.decidingStatuses,
      FILTER_PARAMS.neutralStatuses,
      FILTER_PARAMS.successStatuses,
      FILTER_PARAMS.decidingErrs,
    ],
  );
  const found = new Map<string, { facts: NumberFacts | null; evidence: EvidenceInput[]; optedOut: boolean }>();
  for (const r of rows) {
    const f = jsonColumn(r.facts);
    found.set(r.phone, {
      facts: f && {
        countryIso: f[0],
        mcc: f[1],
        mnc: f[2],
        imsi: f[3],
        msc: f[4],
        network: f[5],
        roaming: f[6],
        roamingCountry: f[7],
        roamingNetwork: f[8],
        lastHlrAt: ms(f[9]),
        deliveredCount: Number(f[10] ?? 0),
        failedCount: Number(f[11] ?? 0),
        lastDeliveredAt: ms(f[12]),
      },
      evidence: (jsonColumn(r.evidence) ?? []).map(([kind, at, status, err]) => ({ kind, at: new Date(at), status: Number(status), err: err === null ? null : Number(err) })),
      optedOut: Boolean(r.opted_out),
    });
  }
  return numbers.map((number) => {
    const f = found.get(number.phone);
    return buildNumberVerdict({ number, facts: f?.facts ?? null, evidence: f?.evidence ?? [], optedOut: f?.optedOut ?? false, options });
  });
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
