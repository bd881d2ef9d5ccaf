// Opt-outs: the latest opt-out or opt-in word each number sent. A later message wins whatever order they arrive
// in; at the same instant an opt-out wins.
import type { Sql } from "../client.js";
import { deleteSuppressions, phoneHash } from "./erasure.js";

export type OptOutRow = {
  phone: string;
  optedOut: boolean;
  word: string;
  message: string;
  eventAt: Date;
  account: string;
  callbackId: number;
};

/** Merge rows per phone first (one row per phone per statement). */
export async function upsertOptOuts(tx: Sql, rows: readonly OptOutRow[], now: Date): Promise<void> {
  if (rows.length === 0) return;
  await deleteSuppressions(tx, rows.filter((r) => !r.optedOut).map((r) => phoneHash(r.phone)));
  await tx.query(
    `INSERT INTO opt_outs AS o (phone, opted_out, word, message, event_at, account, callback_id, updated_at)
     SELECT phone, "optedOut", word, message, "eventAt", account, "callbackId", $2
     FROM json_to_recordset($1::text::json) AS t(phone text, "optedOut" boolean, word text, message text,
       "eventAt" timestamptz, account text, "callbackId" bigint)
     ORDER BY phone
     ON CONFLICT (phone) DO UPDATE SET
       opted_out = excluded.opted_out, word = excluded.word, message = excluded.message, event_at = excluded.event_at,
       account = excluded.account, callback_id = excluded.callback_id, updated_at = excluded.updated_at
     WHERE excluded.event_at > o.event_at OR (excluded.event_at = o.event_at AND excluded.opted_out AND NOT o.opted_out)`,
    [JSON.stringify(rows), now],
  );
}

export type OptOutFilter = { after?: { eventAt: Date; phone: string } | undefined; limit: number };

/** Opted-out numbers, newest opt-out first. */
export async function listOptOuts(db: Sql, f: OptOutFilter): Promise<OptOutRow[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT phone, opted_out, word, message, event_at, account, callback_id::text AS callback_id
     FROM opt_outs
     WHERE opted_out AND ($1::timestamptz IS NULL OR (event_at, phone) < ($1::timestamptz, $2::text))
     ORDER BY event_at DESC, phone DESC
     LIMIT $3`,
    [f.after?.eventAt ?? null, f.after?.phone ?? null, f.limit],
  );
  return rows.map((r) => ({
    phone: r.phone as string,
    optedOut: Boolean(r.opted_out),
    word: r.word as string,
    message: r.message as string,
    eventAt: new Date(r.event_at as string | Date),
    account: r.account as string,
    callbackId: Number(r.callback_id),
  }));
}
