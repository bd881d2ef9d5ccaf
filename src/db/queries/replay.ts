// Reading stored callbacks back for replay, and writing what a replay learned about them.
import type { Sql } from "../client.js";
import { CALLBACK_COLUMNS, callbackFromRow, type StoredCallback } from "./callbacks.js";

/** A stored callback, as replay reads it back. */
export type RawCallback = StoredCallback;

/** Stored callbacks in id order, after `afterId`, received since `since`. */
export async function readCallbacks(db: Sql, q: { afterId: number; since: Date | null; limit: number }): Promise<RawCallback[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT ${CALLBACK_COLUMNS}
     FROM callbacks
     WHERE id > $1 AND ($2::timestamptz IS NULL OR received_at >= $2)
     ORDER BY id
     LIMIT $3`,
    [q.afterId, q.since, q.limit],
  );
  return rows.map(callbackFromRow);
}

export type Reclassification = {
  id: number;
  kind: string;
  error: string | null;
  errorDetail: string | null;
  phone: string | null;
  smscId: string | null;
  account: string;
  keyPhone: string;
  key: string;
};

/**
 * Files each callback under its new dedupe key too (so a retry of it is still caught), then records its new kind,
 * error, phone and id. Keys first, then callbacks: the writer's order.
 */
export async function reclassifyCallbacks(tx: Sql, rows: readonly Reclassification[]): Promise<void> {
  if (rows.length === 0) return;
  const json = JSON.stringify(rows);
  await tx.query(
    `INSERT INTO callback_keys (account, phone, key, callback_id)
     SELECT account, "keyPhone", key, id FROM json_to_recordset($1::text::json) AS t(id bigint, account text, "keyPhone" text, key text)
     ORDER BY account, "keyPhone", key
     ON CONFLICT DO NOTHING`,
    [json],
  );
  await tx.query(
    `UPDATE callbacks c SET kind = t.kind, error = t.error, error_detail = t."errorDetail", phone = t.phone, smsc_id = t."smscId"
     FROM json_to_recordset($1::text::json) AS t(id bigint, kind text, error text, "errorDetail" text, phone text, "smscId" text)
     WHERE c.id = t.id
       AND (c.kind, c.error, c.error_detail, c.phone, c.smsc_id) IS DISTINCT FROM (t.kind, t.error, t."errorDetail", t.phone, t."smscId")`,
    [json],
  );
}
