// Delivery statistics: grouped sums over delivery_rollups (never raw events), and missing receipts counted at
// query time from messages through a partial index (they depend on the clock).
import { LATENCY_BUCKETS } from "../../domain/rollup.js";
import type { CellRow, GroupKey } from "../../domain/stats.js";
import type { Sql } from "../client.js";

export const STAT_DIMENSIONS = ["hour", "day", "operator", "country", "status", "err", "type", "sender", "campaign", "account"] as const;
export type StatDimension = (typeof STAT_DIMENSIONS)[number];

/** Each dimension as an expression over delivery_rollups (r) and over messages (m). */
const DIMENSIONS: Record<StatDimension, { rollup: string; message: string }> = {
  hour: { rollup: "r.hour", message: "date_trunc('hour', m.placed_at)" },
  day: { rollup: "date_trunc('day', r.hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'", message: "date_trunc('day', m.placed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'" },
  operator: { rollup: "coalesce(r.mcc || '-' || coalesce(r.mnc, ''), 'unknown')", message: "coalesce(m.operator_mcc || '-' || coalesce(m.operator_mnc, ''), 'unknown')" },
  country: { rollup: "coalesce(r.country, 'unknown')", message: "coalesce(m.country_iso, 'unknown')" },
  status: { rollup: "r.status", message: "m.status" },
  err: { rollup: "r.err", message: "CASE WHEN m.status IS NULL THEN NULL ELSE m.err END" },
  // A message whose callbacks named no type is an SMS (type 0).
  type: { rollup: "coalesce(r.type, 0)", message: "coalesce(m.type, 0)" },
  sender: { rollup: "r.sender", message: "m.sender" },
  campaign: { rollup: "r.campaign", message: "m.campaign" },
  account: { rollup: "r.account", message: "m.account" },
};

export type StatFilters = Partial<Record<StatDimension, string | number | null>>;

export type StatQuery = { from: Date; to: Date; groupBy: readonly StatDimension[]; filters: StatFilters; now: Date };


/** Statistics are kept per hour: a range covers the whole hours from `from` (rounded down) to `to` (rounded up). */
export function hourRange(from: Date, to: Date): { from: Date; to: Date } {
  const HOUR = 3_600_000;
  return { from: new Date(Math.floor(from.getTime() / HOUR) * HOUR), to: new Date(Math.ceil(to.getTime() / HOUR) * HOUR) };
}

function whereClause(side: "rollup" | "message", q: StatQuery, params: unknown[]): string {
  const time = side === "rollup" ? "r.hour" : "date_trunc('hour', m.placed_at)";
  const range = hourRange(q.from, q.to);
  params.push(range.from, range.to);
  const parts = [`${time} >= $${params.length - 1}::timestamptz`, `${time} < $${params.length}::timestamptz`];
  for (const [dim, value] of Object.entries(q.filters) as [StatDimension, string | number | null][]) {
    if (value === undefined) continue;
    const expr = DIMENSIONS[dim][side];
    if (value === null) parts.push(`${expr} IS NULL`);
    else if (dim === "hour" || dim === "day") {
      params.push(value); // an instant: the hour or day bucket that starts there
      parts.push(`${expr} = $${params.length}::timestamptz`);
    } else {
      params.push(String(value));
      parts.push(`${expr}::text = $${params.length}`);
    }
  }
  // HLR and ping requests are left out unless the type filter asks for them.
  if (q.filters.type === undefined) parts.push(`(${DIMENSIONS.type[side]} IS NULL OR ${DIMENSIONS.type[side]} NOT IN (4, 5))`);
  return parts.join(" AND ");
}

const groupExprs = (side: "rollup" | "message", groupBy: readonly StatDimension[]) =>
  groupBy.map((d, i) => `${DIMENSIONS[d][side]} AS g${i}`);

export type StatRow = { key: GroupKey; cell: CellRow };

export async function queryDeliveryCells(db: Sql, q: StatQuery): Promise<StatRow[]> {
  const params: unknown[] = [];
  const where = whereClause("rollup", q, params);
  const dims = groupExprs("rollup", q.groupBy);
  const latency = Array.from({ length: LATENCY_BUCKETS }, (_, i) => `sum(r.latency[${i + 1}])::int AS l${i}`);
  const rows = await db.query<Record<string, unknown>>(
    `SELECT ${[...dims, `${DIMENSIONS.type.rollup} AS cell_type`, "r.status", "r.err"].join(", ")}, sum(r.messages)::int AS messages, sum(r.cost)::text AS cost,
            sum(r.latency_from_registered)::int AS lfr, ${latency.join(", ")}
     FROM delivery_rollups r
     WHERE ${where}
     GROUP BY ${[...q.groupBy.map((_, i) => `g${i}`), "cell_type", "r.status", "r.err"].join(", ")}`,
    params,
  );
  return rows.map((r) => ({
    key: keyOf(r, q.groupBy),
    cell: {
      type: Number(r.cell_type),
      status: r.status === null ? null : Number(r.status),
      err: r.err === null ? null : Number(r.err),
      messages: Number(r.messages),
      cost: String(r.cost ?? "0"),
      latency: Array.from({ length: LATENCY_BUCKETS }, (_, i) => Number(r[`l${i}`] ?? 0)),
      latencyFromRegistered: Number(r.lfr ?? 0),
    },
  }));
}

/** Registered messages past their validity window with no final status, per group. */
export async function queryMissingReceipts(db: Sql, q: StatQuery): Promise<{ key: GroupKey; count: number }[]> {
  const params: unknown[] = [];
  const where = whereClause("message", q, params);
  params.push(q.now);
  const dims = groupExprs("message", q.groupBy);
  const rows = await db.query<Record<string, unknown>>(
    `SELECT ${[...dims, "count(*)::int AS n"].join(", ")}
     FROM messages m
     WHERE m.registered AND NOT m.final AND m.valid_until < $${params.length}::timestamptz AND ${where}
     ${q.groupBy.length > 0 ? `GROUP BY ${q.groupBy.map((_, i) => `g${i}`).join(", ")}` : ""}`,
    params,
  );
  return rows.map((r) => ({ key: keyOf(r, q.groupBy), count: Number(r.n) }));
}

function keyOf(r: Record<string, unknown>, groupBy: readonly StatDimension[]): GroupKey {
  const key: GroupKey = {};
  groupBy.forEach((d, i) => {
    const v = r[`g${i}`];
    key[d] = v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : d === "status" || d === "err" || d === "type" ? Number(v) : typeof v === "string" && (d === "hour" || d === "day") ? new Date(v).toISOString() : String(v);
  });
  return key;
}
