// Staged receipt-import lines (those without a phone), so an import's memory stays flat whatever the file's size.
import type { Sql } from "../client.js";

export type StagedLine = { lineNo: number; smscId: string; receipt: string };

export async function stageImportLines(db: Sql, importId: string, lines: readonly StagedLine[], now: Date): Promise<void> {
  if (lines.length === 0) return;
  await db.query(
    `INSERT INTO import_lines (import_id, line_no, smsc_id, receipt, created_at)
     SELECT $1, "lineNo", "smscId", receipt, $3 FROM json_to_recordset($2::text::json) AS t("lineNo" int, "smscId" text, receipt text)`,
    [importId, JSON.stringify(lines), now],
  );
}

/** The next staged lines after `afterLine`, in line order. */
export async function readImportLines(db: Sql, importId: string, afterLine: number, limit: number): Promise<StagedLine[]> {
  const rows = await db.query<{ line_no: number; smsc_id: string; receipt: string }>(
    "SELECT line_no, smsc_id, receipt FROM import_lines WHERE import_id = $1 AND line_no > $2 ORDER BY line_no LIMIT $3",
    [importId, afterLine, limit],
  );
  return rows.map((r) => ({ lineNo: Number(r.line_no), smscId: r.smsc_id, receipt: r.receipt }));
}

export async function dropImportLines(db: Sql, importId: string): Promise<void> {
  await db.query("DELETE FROM import_lines WHERE import_id = $1", [importId]);
}

/** Removes the staged lines of imports that never finished (their process died): those staged before `before`. */
export async function dropAbandonedImportLines(db: Sql, before: Date): Promise<number> {
  const [row] = await db.query<{ n: number }>("WITH d AS (DELETE FROM import_lines WHERE created_at < $1 RETURNING 1) SELECT count(*)::int AS n FROM d", [before]);
  return Number(row?.n ?? 0);
}
