// Retention: raw callbacks and status events older than a cutoff, removed in small batches so that each statement is
// short and ingest never waits long on it. Rollups, messages and numbers stay; dedupe keys stay too, so a very late
// retry of a removed callback is still recognised.
import type { Sql } from "../client.js";

export const RETAINED_TABLES = { callbacks: "received_at", status_events: "received_at" } as const;

/** Deletes up to `batch` rows of `table` received before `cutoff`; returns how many. */
export async function deleteOlderThan(db: Sql, table: keyof typeof RETAINED_TABLES, cutoff: Date, batch: number): Promise<number> {
  const column = RETAINED_TABLES[table];
  const rows = await db.query<{ n: number }>(
    `WITH d AS (
       DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${column} < $1 ORDER BY ${column}, id LIMIT $2)
       RETURNING 1)
     SELECT count(*)::int AS n FROM d`,
    [cutoff, batch],
  );
  return Number(rows[0]?.n ?? 0);
}
