// Number-list hygiene reports: one row per uploaded list (status, progress, summary) and one per data row (the cells
// as uploaded, then the classification). Rows are written a batch per statement, duplicates are resolved in the same
// statement against the rows already stored, and the statement moves the report's progress too.
import type { Sql } from "../client.js";
import type { SummaryGroup } from "../../domain/hygiene.js";

export type HygieneReportStatus = "running" | "done" | "failed";

export type StoredHygieneReport = {
  id: string;
  status: HygieneReportStatus;
  failure: string | null;
  options: unknown;
  input: unknown;
  totalRows: number | null;
  rowsDone: number;
  summary: unknown;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  expiresAt: Date;
};

const toDate = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string | Date));
const toJson = (v: unknown): unknown => (typeof v === "string" ? JSON.parse(v) : v);

export async function insertHygieneReport(
  db: Sql,
  r: { id: string; options: unknown; input: unknown; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO hygiene_reports (id, status, options, input, rows_done, created_at, updated_at, expires_at)
     VALUES ($1, 'running', $2::text::jsonb, $3::text::jsonb, 0, $4, $4, $5)`,
    [r.id, JSON.stringify(r.options), JSON.stringify(r.input), r.createdAt, r.expiresAt],
  );
}

export async function findHygieneReport(db: Sql, id: string): Promise<StoredHygieneReport | null> {
  const [r] = await db.query<Record<string, unknown>>(
    `SELECT id, status, failure, options, input, total_rows, rows_done, summary, created_at, updated_at, finished_at, expires_at
     FROM hygiene_reports WHERE id = $1`,
    [id],
  );
  if (!r) return null;
  return {
    id: r.id as string,
    status: r.status as HygieneReportStatus,
    failure: (r.failure as string | null) ?? null,
    options: toJson(r.options),
    input: toJson(r.input),
    totalRows: r.total_rows === null || r.total_rows === undefined ? null : Number(r.total_rows),
    rowsDone: Number(r.rows_done),
    summary: toJson(r.summary ?? null),
    createdAt: toDate(r.created_at)!,
    updatedAt: toDate(r.updated_at)!,
    finishedAt: toDate(r.finished_at),
    expiresAt: toDate(r.expires_at)!,
  };
}

/** One data row, classified: what goes into hygiene_rows (duplicate_of is resolved by the insert itself). */
export type ClassifiedRow = {
  rowNo: number;
  cells: string[];
  phone: string | null;
  phoneError: string | null;
  verdict: string | null;
  reason: string | null;
  evidenceAt: Date | null;
  operator: string | null;
  country: string | null;
  roaming: boolean | null;
  optedOut: boolean | null;
  /** The action before duplicates are known: a duplicate after the first becomes `drop`. */
  action: string;
};

/**
 * Stores a batch of rows (row numbers after every row stored so far) in one statement: each row with a phone seen
 * earlier in the report, or earlier in the batch, gets `duplicate_of` (the first row's number) and the action `drop`.
 * The report's rows_done moves in the same statement. Gives back the batch's counts per summary group.
 */
export async function insertClassifiedRows(db: Sql, reportId: string, rows: readonly ClassifiedRow[], now: Date): Promise<SummaryGroup[]> {
  if (rows.length === 0) return [];
  const payload = JSON.stringify(
    rows.map((r) => ({
      n: r.rowNo,
      c: r.cells,
      p: r.phone,
      pe: r.phoneError,
      v: r.verdict,
      r: r.reason,
      ea: r.evidenceAt,
      o: r.operator,
      k: r.country,
      ro: r.roaming,
      oo: r.optedOut,
      a: r.action,
    })),
  );
  const groups = await db.query<Record<string, unknown>>(
    `WITH b AS (
       SELECT * FROM json_to_recordset($2::text::json)
         AS t(n int, c text[], p text, pe text, v text, r text, ea timestamptz, o text, k text, ro boolean, oo boolean, a text)
     ),
     prior AS (
       SELECT h.phone, min(h.row_no) AS first
       FROM hygiene_rows h
       WHERE h.report_id = $1 AND h.phone IN (SELECT DISTINCT p FROM b WHERE p IS NOT NULL)
       GROUP BY h.phone
     ),
     d AS (
       SELECT b.*,
              CASE WHEN b.p IS NULL THEN NULL
                   ELSE coalesce(prior.first, nullif(min(b.n) OVER (PARTITION BY b.p), b.n)) END AS dup
       FROM b LEFT JOIN prior ON prior.phone = b.p
     ),
     ins AS (
       INSERT INTO hygiene_rows (report_id, row_no, cells, phone, phone_error, duplicate_of, verdict, reason, evidence_at,
                                 operator, country, roaming, opted_out, action)
       SELECT $1, n, c, p, pe, dup, v, r, ea, o, k, ro, oo, CASE WHEN dup IS NOT NULL THEN 'drop' ELSE a END
       FROM d
       RETURNING verdict, action, operator, country, duplicate_of IS NOT NULL AS dup, phone_error IS NOT NULL AS bad,
                 coalesce(opted_out, false) AS oo
     ),
     progress AS (
       UPDATE hygiene_reports SET rows_done = rows_done + (SELECT count(*) FROM ins), updated_at = $3 WHERE id = $1
     )
     SELECT verdict, action, operator, country, dup, bad, oo, count(*)::int AS n
     FROM ins GROUP BY verdict, action, operator, country, dup, bad, oo`,
    [reportId, payload, now],
  );
  return groups.map((g) => ({
    verdict: (g.verdict as string | null) ?? null,
    action: (g.action as string | null) ?? null,
    operator: (g.operator as string | null) ?? null,
    country: (g.country as string | null) ?? null,
    duplicate: Boolean(g.dup),
    malformed: Boolean(g.bad),
    optedOut: Boolean(g.oo),
    rows: Number(g.n),
  }));
}

/** Marks a running report alive (a long upload between batches). */
export async function touchHygieneReport(db: Sql, id: string, now: Date): Promise<void> {
  await db.query(`UPDATE hygiene_reports SET updated_at = $2 WHERE id = $1 AND status = 'running'`, [id, now]);
}

export async function finishHygieneReport(db: Sql, id: string, r: { totalRows: number; input: unknown; summary: unknown; now: Date }): Promise<void> {
  await db.query(
    `UPDATE hygiene_reports
     SET status = 'done', total_rows = $2, input = $3::text::jsonb, summary = $4::text::jsonb, updated_at = $5, finished_at = $5
     WHERE id = $1 AND status = 'running'`,
    [id, r.totalRows, JSON.stringify(r.input), JSON.stringify(r.summary), r.now],
  );
}

/** Ends a running report as failed with the reason, and removes its rows. */
export async function failHygieneReport(db: Sql, id: string, failure: string, now: Date): Promise<void> {
  await db.query(
    `WITH f AS (
       UPDATE hygiene_reports SET status = 'failed', failure = $2, updated_at = $3, finished_at = $3
       WHERE id = $1 AND status = 'running' RETURNING id
     )
     DELETE FROM hygiene_rows WHERE report_id IN (SELECT id FROM f)`,
    [id, failure, now],
  );
}

/** Removes a report and its rows (an upload refused before it was answered). */
export async function deleteHygieneReport(db: Sql, id: string): Promise<void> {
  await db.query(`WITH r AS (DELETE FROM hygiene_reports WHERE id = $1) DELETE FROM hygiene_rows WHERE report_id = $1`, [id]);
}

/** Reports still `running` that nobody has moved since `staleBefore` (their process died): failed, rows removed. */
export async function failStaleHygieneReports(db: Sql, staleBefore: Date, failure: string, now: Date): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `WITH f AS (
       UPDATE hygiene_reports SET status = 'failed', failure = $2, updated_at = $3, finished_at = $3
       WHERE status = 'running' AND updated_at < $1 RETURNING id
     ),
     d AS (DELETE FROM hygiene_rows WHERE report_id IN (SELECT id FROM f))
     SELECT id FROM f ORDER BY id`,
    [staleBefore, failure, now],
  );
  return rows.map((r) => r.id);
}

/** Reports past their retention, and their rows. */
export async function deleteExpiredHygieneReports(db: Sql, now: Date): Promise<number> {
  const [r] = await db.query<{ n: number }>(
    `WITH e AS (DELETE FROM hygiene_reports WHERE expires_at <= $1 RETURNING id),
          d AS (DELETE FROM hygiene_rows WHERE report_id IN (SELECT id FROM e))
     SELECT count(*)::int AS n FROM e`,
    [now],
  );
  return Number(r?.n ?? 0);
}

export type StoredHygieneRow = {
  rowNo: number;
  cells: string[];
  phone: string | null;
  phoneError: string | null;
  duplicateOf: number | null;
  verdict: string | null;
  reason: string | null;
  evidenceAt: Date | null;
  operator: string | null;
  country: string | null;
  roaming: boolean | null;
  optedOut: boolean | null;
  action: string | null;
};

/** A page of a report's rows in input order, after row `after`. */
export async function listHygieneRows(db: Sql, id: string, after: number, limit: number): Promise<StoredHygieneRow[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT row_no, cells, phone, phone_error, duplicate_of, verdict, reason, evidence_at, operator, country, roaming, opted_out, action
     FROM hygiene_rows WHERE report_id = $1 AND row_no > $2 ORDER BY row_no LIMIT $3`,
    [id, after, limit],
  );
  return rows.map((r) => ({
    rowNo: Number(r.row_no),
    cells: (r.cells as string[] | null) ?? [],
    phone: (r.phone as string | null) ?? null,
    phoneError: (r.phone_error as string | null) ?? null,
    duplicateOf: r.duplicate_of === null || r.duplicate_of === undefined ? null : Number(r.duplicate_of),
    verdict: (r.verdict as string | null) ?? null,
    reason: (r.reason as string | null) ?? null,
    evidenceAt: toDate(r.evidence_at),
    operator: (r.operator as string | null) ?? null,
    country: (r.country as string | null) ?? null,
    roaming: (r.roaming as boolean | null) ?? null,
    optedOut: (r.opted_out as boolean | null) ?? null,
    action: (r.action as string | null) ?? null,
  }));
}

/** A page of the numbers a report says to check again (action `recheck`), in input order. */
export async function listRecheckPhones(db: Sql, id: string, after: number, limit: number): Promise<{ rowNo: number; phone: string }[]> {
  const rows = await db.query<{ row_no: number; phone: string }>(
    `SELECT row_no, phone FROM hygiene_rows
     WHERE report_id = $1 AND row_no > $2 AND action = 'recheck' AND phone IS NOT NULL
     ORDER BY row_no LIMIT $3`,
    [id, after, limit],
  );
  return rows.map((r) => ({ rowNo: Number(r.row_no), phone: r.phone }));
}

export type HygieneChange = {
  rowNo: number;
  phone: string;
  oldVerdict: string | null;
  newVerdict: string | null;
  oldAction: string | null;
  newAction: string | null;
};

/**
 * A page of the numbers in both reports whose verdict or action differs (each report's first row of the number),
 * in the order of report `id`, after its row `after`.
 */
export async function listHygieneChanges(db: Sql, id: string, against: string, after: number, limit: number): Promise<HygieneChange[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT n.row_no, n.phone, o.verdict AS old_verdict, n.verdict AS new_verdict, o.action AS old_action, n.action AS new_action
     FROM hygiene_rows n
     CROSS JOIN LATERAL (
       SELECT verdict, action FROM hygiene_rows o
       WHERE o.report_id = $2 AND o.phone = n.phone AND o.duplicate_of IS NULL
       ORDER BY o.row_no LIMIT 1
     ) o
     WHERE n.report_id = $1 AND n.row_no > $3 AND n.phone IS NOT NULL AND n.duplicate_of IS NULL
       AND (o.verdict IS DISTINCT FROM n.verdict OR o.action IS DISTINCT FROM n.action)
     ORDER BY n.row_no
     LIMIT $4`,
    [id, against, after, limit],
  );
  return rows.map((r) => ({
    rowNo: Number(r.row_no),
    phone: r.phone as string,
    oldVerdict: (r.old_verdict as string | null) ?? null,
    newVerdict: (r.new_verdict as string | null) ?? null,
    oldAction: (r.old_action as string | null) ?? null,
    newAction: (r.new_action as string | null) ?? null,
  }));
}
