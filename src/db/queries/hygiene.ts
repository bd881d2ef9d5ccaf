// Number-list hygiene reports: one row per uploaded list (status, progress, summary) and one per data row (the cells
// as uploaded, then the classification). Rows are written a batch per statement (which moves the report's progress
// too); duplicates are resolved in one statement once every row is stored; results are read back a page at a time,
// as JSON by the database.
//
// Reads page by windows of row numbers (`row_no > after AND row_no <= after + size`), never by LIMIT: a done report's
// rows are numbered 1..total without gaps, and a window costs the same whatever the planner believes of the report's
// size. (With statistics taken before a big report was stored, `row_no > after ORDER BY row_no LIMIT n` was planned
// as a sort of every later row, for every page: 28 s instead of 3 for a million rows.)
import { jsonColumn, type Sql } from "../client.js";

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
  /** The API key that uploaded the list; null when an admin did. */
  ownerKeyId: string | null;
};

const toDate = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string | Date));

export async function insertHygieneReport(
  db: Sql,
  r: { id: string; options: unknown; input: unknown; createdAt: Date; expiresAt: Date; ownerKeyId?: string | null },
): Promise<void> {
  await db.query(
    `INSERT INTO hygiene_reports (id, status, options, input, rows_done, created_at, updated_at, expires_at, owner_key_id)
     VALUES ($1, 'running', $2::text::jsonb, $3::text::jsonb, 0, $4, $4, $5, $6)`,
    [r.id, JSON.stringify(r.options), JSON.stringify(r.input), r.createdAt, r.expiresAt, r.ownerKeyId ?? null],
  );
}

export async function findHygieneReport(db: Sql, id: string): Promise<StoredHygieneReport | null> {
  const [r] = await db.query<Record<string, unknown>>(
    `SELECT id, status, failure, options, input, total_rows, rows_done, summary, created_at, updated_at, finished_at, expires_at, owner_key_id
     FROM hygiene_reports WHERE id = $1`,
    [id],
  );
  if (!r) return null;
  return {
    id: r.id as string,
    status: r.status as HygieneReportStatus,
    failure: (r.failure as string | null) ?? null,
    options: jsonColumn(r.options),
    input: jsonColumn(r.input),
    totalRows: r.total_rows === null || r.total_rows === undefined ? null : Number(r.total_rows),
    rowsDone: Number(r.rows_done),
    summary: jsonColumn(r.summary ?? null),
    createdAt: toDate(r.created_at)!,
    updatedAt: toDate(r.updated_at)!,
    finishedAt: toDate(r.finished_at),
    expiresAt: toDate(r.expires_at)!,
    ownerKeyId: (r.owner_key_id as string | null) ?? null,
  };
}

/** One data row, classified: what goes into hygiene_rows (duplicates are resolved once every row is stored). */
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
  /** The action before duplicates are known (a duplicate after the first becomes `drop`). */
  action: string;
};

/**
 * Stores a batch of rows in one statement, which also moves the report's rows_done. Batches do not depend on each
 * other: several may be stored at once, in any order.
 */
export async function insertClassifiedRows(db: Sql, reportId: string, rows: readonly ClassifiedRow[], now: Date): Promise<void> {
  if (rows.length === 0) return;
  // Short keys, and none for a null (a missing key is NULL): less JSON to write and to parse.
  const payload = JSON.stringify(
    rows.map((r) => ({
      n: r.rowNo,
      c: r.cells,
      p: r.phone ?? undefined,
      pe: r.phoneError ?? undefined,
      v: r.verdict ?? undefined,
      r: r.reason ?? undefined,
      ea: r.evidenceAt ?? undefined,
      o: r.operator ?? undefined,
      k: r.country ?? undefined,
      ro: r.roaming ?? undefined,
      oo: r.optedOut ?? undefined,
      a: r.action,
    })),
  );
  await db.query(
    `WITH ins AS (
       INSERT INTO hygiene_rows (report_id, row_no, cells, phone, phone_error, verdict, reason, evidence_at, operator, country,
                                 roaming, opted_out, action)
       SELECT $1, n, c, p, pe, v, r, ea, o, k, ro, oo, a
       FROM json_to_recordset($2::text::json)
         AS t(n int, c text[], p text, pe text, v text, r text, ea timestamptz, o text, k text, ro boolean, oo boolean, a text)
       RETURNING 1
     )
     UPDATE hygiene_reports SET rows_done = rows_done + (SELECT count(*) FROM ins), updated_at = $3 WHERE id = $1`,
    [reportId, payload, now],
  );
}

/**
 * Once every row of a report is stored: each row whose number an earlier row has gets `duplicate_of` (the first
 * row's number) and the action `drop`. One statement for the whole report. Gives back how many rows became
 * duplicates, per the action they had before.
 */
export async function resolveHygieneDuplicates(db: Sql, reportId: string): Promise<{ action: string; rows: number }[]> {
  const rows = await db.query<{ action: string; n: number }>(
    `WITH firsts AS (
       SELECT phone, min(row_no) AS first FROM hygiene_rows
       WHERE report_id = $1 AND phone IS NOT NULL
       GROUP BY phone HAVING count(*) > 1
     ),
     dups AS (
       SELECT r.row_no, r.action, f.first
       FROM firsts f JOIN hygiene_rows r ON r.report_id = $1 AND r.phone = f.phone AND r.row_no > f.first
     ),
     upd AS (
       UPDATE hygiene_rows r SET duplicate_of = d.first, action = 'drop'
       FROM dups d WHERE r.report_id = $1 AND r.row_no = d.row_no
     )
     SELECT action, count(*)::int AS n FROM dups GROUP BY action ORDER BY action`,
    [reportId],
  );
  return rows.map((r) => ({ action: r.action, rows: Number(r.n) }));
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

const isoText = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * A report's row as the CSV result needs it: the cells as uploaded, then the result columns (`evidenceAt` in
 * milliseconds since the epoch).
 */
export type HygieneResultRow = [
  cells: string[],
  phone: string | null,
  phoneError: string | null,
  duplicateOf: number | null,
  verdict: string | null,
  reason: string | null,
  evidenceAt: number | null,
  operator: string | null,
  country: string | null,
  roaming: boolean | null,
  optedOut: boolean | null,
  action: string | null,
];

/**
 * The rows in the window after row `after`, in input order. The page comes back as one JSON value (cheap for the
 * database to write and for Node to read); the caller writes the lines.
 */
export async function listHygieneResultRows(db: Sql, id: string, f: { after: number; limit: number }): Promise<HygieneResultRow[]> {
  const [r] = await db.query<{ page: string | null }>(
    `SELECT json_agg(json_build_array(cells, phone, phone_error, duplicate_of, verdict, reason,
                     (extract(epoch FROM evidence_at) * 1000)::bigint, operator, country, roaming, opted_out, action)
                     ORDER BY row_no)::text AS page
     FROM (SELECT * FROM hygiene_rows WHERE report_id = $1 AND row_no > $2 AND row_no <= $2 + $3) r`,
    [id, f.after, f.limit],
  );
  return r?.page ? (JSON.parse(r.page) as HygieneResultRow[]) : [];
}

/** The rows in the window after row `after`, each written by the database as one JSON object (HygieneResultRow). */
export async function listHygieneJsonRows(db: Sql, id: string, f: { after: number; limit: number }): Promise<string[]> {
  const rows = await db.query<{ item: string }>(
    `SELECT json_build_object(
       'row', row_no, 'cells', cells, 'e164', '+' || phone, 'phone_error', phone_error, 'duplicate_of', duplicate_of,
       'verdict', verdict, 'reason', reason, 'evidence_at', ${isoText("evidence_at")}, 'operator', operator, 'country', country,
       'roaming', roaming, 'opted_out', opted_out, 'action', action)::text AS item
     FROM hygiene_rows WHERE report_id = $1 AND row_no > $2 AND row_no <= $2 + $3 ORDER BY row_no`,
    [id, f.after, f.limit],
  );
  return rows.map((r) => r.item);
}

/** The numbers a report says to check again (action `recheck`) in the window after row `after`, in input order. */
export async function listRecheckPhones(db: Sql, id: string, after: number, limit: number): Promise<string[]> {
  const rows = await db.query<{ phone: string }>(
    `SELECT phone FROM hygiene_rows
     WHERE report_id = $1 AND row_no > $2 AND row_no <= $2 + $3 AND action = 'recheck' AND phone IS NOT NULL
     ORDER BY row_no`,
    [id, after, limit],
  );
  return rows.map((r) => r.phone);
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
 * The numbers in both reports whose verdict or action differs (each report's first row of the number), in the
 * window of report `id`'s rows after its row `after`, in its order.
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
     WHERE n.report_id = $1 AND n.row_no > $3 AND n.row_no <= $3 + $4 AND n.phone IS NOT NULL AND n.duplicate_of IS NULL
       AND (o.verdict IS DISTINCT FROM n.verdict OR o.action IS DISTINCT FROM n.action)
     ORDER BY n.row_no`,
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
