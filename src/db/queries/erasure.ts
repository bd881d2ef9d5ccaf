// Erasure of one number: every row that holds it, in the writer's table order (so it cannot deadlock with one).
// Rollups hold no phone numbers and stay.
import { createHash } from "node:crypto";
import { arrayParam, type Sql } from "../client.js";

/** The key erasure keeps for an opted-out number: a SHA-256 of its E.164 digits (no number is stored). */
export function phoneHash(phone: string): string {
  return createHash("sha256").update(`smsc-hub:phone:${phone}`).digest("hex");
}

export const ERASED_TABLES = [
  "callback_keys",
  "callbacks",
  "status_events",
  "hlr_results",
  "messages",
  "numbers",
  "incoming_messages",
  "opt_outs",
  "waitcall_events",
  "ivr_events",
  "hygiene_rows",
] as const;

/** Deletes everything about `phone`; returns how many rows each table lost, and whether it was opted out. */
export async function eraseNumber(tx: Sql, phone: string): Promise<{ counts: Record<string, number>; optedOut: boolean }> {
  const [opt] = await tx.query<{ opted_out: boolean }>("SELECT opted_out FROM opt_outs WHERE phone = $1 FOR UPDATE", [phone]);
  const counts: Record<string, number> = {};
  for (const table of ERASED_TABLES) {
    const rows = await tx.query<{ n: number }>(`WITH d AS (DELETE FROM ${table} WHERE phone = $1 RETURNING 1) SELECT count(*)::int AS n FROM d`, [phone]);
    counts[table] = Number(rows[0]?.n ?? 0);
  }
  return { counts, optedOut: opt?.opted_out === true };
}

/** Keeps an opted-out number suppressed after erasure: only a hash of it is stored. */
export async function insertSuppression(tx: Sql, phoneHash: string, now: Date): Promise<void> {
  await tx.query("INSERT INTO suppressions (phone_hash, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", [phoneHash, now]);
}

/** An opt-in after erasure lifts the suppression (the subscriber asked for messages again). */
export async function deleteSuppressions(tx: Sql, hashes: readonly string[]): Promise<void> {
  if (hashes.length === 0) return;
  await tx.query("DELETE FROM suppressions WHERE phone_hash = ANY($1::text[])", [arrayParam(hashes)]);
}
