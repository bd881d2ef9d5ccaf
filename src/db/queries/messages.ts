// Messages and their status events.
import { arrayParam, type Sql } from "../client.js";
import { placedAt, type MessageState } from "../../domain/message-state.js";

export type MessageKey = { account: string; smscId: string; phone: string };

/** A message key as one string (a Map key). */
export const messageKeyString = (k: MessageKey): string => `${k.account}\u0000${k.smscId}\u0000${k.phone}`;

export type LockedMessage = MessageKey & { id: number; state: MessageState };

const toDate = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string | Date));

/**
 * Makes sure a row exists for each key, locks the rows in key order (so concurrent writers never deadlock) and
 * returns their current state: one statement. ON CONFLICT DO UPDATE locks an existing row as FOR UPDATE would, and
 * finds it through the unique index whatever the planner believes of the table's size (a join of the keys with
 * `messages` was planned as a sequential scan while the table was small).
 */
export async function lockMessages(tx: Sql, keys: readonly MessageKey[], now: Date): Promise<LockedMessage[]> {
  if (keys.length === 0) return [];
  const sorted = [...keys].sort(compareMessageKeys);
  const rows = await tx.query<Record<string, unknown>>(
    `INSERT INTO messages AS m (account, smsc_id, phone, created_at, updated_at)
     SELECT account, "smscId", phone, $2, $2
     FROM json_to_recordset($1::text::json) AS t(account text, "smscId" text, phone text)
     ORDER BY account, "smscId", phone
     ON CONFLICT (account, smsc_id, phone) DO UPDATE SET updated_at = m.updated_at
     RETURNING m.id::text AS id, m.account, m.smsc_id, m.phone, ${STATE_COLUMNS}`,
    [JSON.stringify(sorted), now],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    account: r.account as string,
    smscId: r.smsc_id as string,
    phone: r.phone as string,
    state: stateFromRow(r),
  }));
}

/** The columns that hold a message's state, as `stateFromRow` reads them. */
export const STATE_COLUMNS = `m.type, m.status, m.err, m.final, m.status_at, m.cost::text AS cost, m.parts, m.sender,
  m.cost_from, m.parts_from, m.sender_from, m.campaign,
  m.mcc, m.mnc, m.mcc_from, m.first_status_at, m.last_status_at, m.delivered_at, m.registered, m.sent_at, m.valid_until, m.menu_id,
  m.country_iso, m.operator_mcc, m.operator_mnc`;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function stateFromRow(r: Record<string, unknown>): MessageState {
  return {
    type: num(r.type),
    status: num(r.status),
    err: num(r.err),
    final: Boolean(r.final),
    statusAt: toDate(r.status_at),
    cost: str(r.cost),
    parts: num(r.parts),
    sender: str(r.sender),
    costFrom: str(r.cost_from),
    partsFrom: str(r.parts_from),
    senderFrom: str(r.sender_from),
    campaign: str(r.campaign),
    mcc: str(r.mcc),
    mnc: str(r.mnc),
    mccFrom: str(r.mcc_from),
    firstStatusAt: toDate(r.first_status_at),
    lastStatusAt: toDate(r.last_status_at),
    deliveredAt: toDate(r.delivered_at),
    registered: Boolean(r.registered),
    sentAt: toDate(r.sent_at),
    validUntil: toDate(r.valid_until),
    menuId: str(r.menu_id),
    countryIso: str(r.country_iso),
    operatorMcc: str(r.operator_mcc),
    operatorMnc: str(r.operator_mnc),
  };
}

export function compareMessageKeys(a: MessageKey, b: MessageKey): number {
  return cmp(a.account, b.account) || cmp(a.smscId, b.smscId) || cmp(a.phone, b.phone);
}

/** Byte-order string comparison, the same order as the database's "C" collation on ASCII keys. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function updateMessages(tx: Sql, rows: readonly { id: number; state: MessageState }[], now: Date): Promise<void> {
  if (rows.length === 0) return;
  const sorted = [...rows].sort((a, b) => a.id - b.id);
  const json = JSON.stringify(sorted.map(({ id, state }) => ({ id, ...state, placedAt: placedAt(state) })));
  await tx.query(
    `UPDATE messages m SET
       type = t.type, status = t.status, err = t.err, final = t.final, status_at = t."statusAt", cost = t.cost,
       parts = t.parts, sender = t.sender, cost_from = t."costFrom", parts_from = t."partsFrom", sender_from = t."senderFrom",
       campaign = t.campaign, mcc = t.mcc, mnc = t.mnc, mcc_from = t."mccFrom",
       first_status_at = t."firstStatusAt", last_status_at = t."lastStatusAt", delivered_at = t."deliveredAt",
       registered = t.registered, sent_at = t."sentAt", valid_until = t."validUntil", menu_id = t."menuId",
       country_iso = t."countryIso", operator_mcc = t."operatorMcc", operator_mnc = t."operatorMnc",
       placed_at = t."placedAt", updated_at = $2
     FROM json_to_recordset($1::text::json) AS t(id bigint, type smallint, status smallint, err int, final boolean,
       "statusAt" timestamptz, cost numeric, parts int, sender text, "costFrom" text, "partsFrom" text, "senderFrom" text,
       campaign text, mcc text, mnc text, "mccFrom" text,
       "firstStatusAt" timestamptz, "lastStatusAt" timestamptz, "deliveredAt" timestamptz, registered boolean,
       "sentAt" timestamptz, "validUntil" timestamptz, "menuId" text, "countryIso" text, "operatorMcc" text,
       "operatorMnc" text, "placedAt" timestamptz)
     WHERE m.id = t.id
       -- The ids again as an array the planner can count: it then finds the rows by the primary key.
       AND m.id = ANY($3::bigint[])`,
    [json, now, arrayParam(sorted.map((r) => r.id))],
    { prepare: false },
  );
}

export type StatusEventRow = {
  account: string;
  smscId: string;
  phone: string;
  type: number | null;
  status: number;
  err: number;
  eventAt: Date;
  receivedAt: Date;
  callbackId: number;
};

/** One row per distinct status change; a change already stored is left as it is. */
export async function insertStatusEvents(tx: Sql, rows: readonly StatusEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO status_events (account, smsc_id, phone, type, status, err, event_at, received_at, callback_id)
     SELECT account, "smscId", phone, type, status, err, "eventAt", "receivedAt", "callbackId"
     FROM json_to_recordset($1::text::json) AS t(account text, "smscId" text, phone text, type smallint, status smallint,
       err int, "eventAt" timestamptz, "receivedAt" timestamptz, "callbackId" bigint)
     ORDER BY phone, account, "smscId", status, err, "eventAt"
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

/** The phones of the messages with this SMSC id in this account (bulk import of lines without a phone). */
export async function findPhonesBySmscIds(db: Sql, account: string, smscIds: readonly string[]): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  if (smscIds.length === 0) return result;
  const rows = await db.query<{ smsc_id: string; phone: string }>(
    `SELECT smsc_id, phone FROM messages
     WHERE account = $1 AND smsc_id = ANY($2::text[])
     ORDER BY smsc_id, phone`,
    [account, arrayParam(smscIds)],
  );
  for (const r of rows) {
    const list = result.get(r.smsc_id) ?? [];
    list.push(r.phone);
    result.set(r.smsc_id, list);
  }
  return result;
}

export type StoredMessage = MessageKey & { rowId: number; state: MessageState; placedAt: Date | null; createdAt: Date; updatedAt: Date };

function storedFromRow(r: Record<string, unknown>): StoredMessage {
  return {
    rowId: Number(r.id),
    account: r.account as string,
    smscId: r.smsc_id as string,
    phone: r.phone as string,
    state: stateFromRow(r),
    placedAt: toDate(r.placed_at),
    createdAt: toDate(r.created_at)!,
    updatedAt: toDate(r.updated_at)!,
  };
}

export type MessageFilter = {
  from: Date;
  to: Date;
  account?: string | undefined;
  campaign?: string | undefined;
  sender?: string | undefined;
  status?: number | undefined;
  phone?: string | undefined;
  /** Keyset cursor: (placed_at, id) of the last row of the previous page. */
  after?: { placedAt: Date; rowId: number } | undefined;
  limit: number;
};

/** Messages placed (sent, or first seen) in [from, to), newest first. */
export async function listMessages(db: Sql, f: MessageFilter): Promise<StoredMessage[]> {
  const rows = await db.query(
    `SELECT m.id::text AS id, m.account, m.smsc_id, m.phone, m.placed_at, m.created_at, m.updated_at, ${STATE_COLUMNS}
     FROM messages m
     WHERE m.placed_at >= $1 AND m.placed_at < $2
       AND ($3::text IS NULL OR m.account = $3)
       AND ($4::text IS NULL OR m.campaign = $4)
       AND ($5::text IS NULL OR m.sender = $5)
       AND ($6::int IS NULL OR m.status = $6)
       AND ($7::text IS NULL OR m.phone = $7)
       AND ($8::timestamptz IS NULL OR (m.placed_at, m.id) < ($8::timestamptz, $9::bigint))
     ORDER BY m.placed_at DESC, m.id DESC
     LIMIT $10`,
    [f.from, f.to, f.account ?? null, f.campaign ?? null, f.sender ?? null, f.status ?? null, f.phone ?? null, f.after?.placedAt ?? null, f.after?.rowId ?? null, f.limit],
  );
  return rows.map(storedFromRow);
}

/** The messages with this SMSC id, optionally narrowed to a phone and an account. */
export async function findMessages(db: Sql, q: { smscId: string; phone?: string | undefined; account?: string | undefined }): Promise<StoredMessage[]> {
  const rows = await db.query(
    `SELECT m.id::text AS id, m.account, m.smsc_id, m.phone, m.placed_at, m.created_at, m.updated_at, ${STATE_COLUMNS}
     FROM messages m
     WHERE m.smsc_id = $1 AND ($2::text IS NULL OR m.phone = $2) AND ($3::text IS NULL OR m.account = $3)
     ORDER BY m.account, m.phone
     LIMIT 50`,
    [q.smscId, q.phone ?? null, q.account ?? null],
  );
  return rows.map(storedFromRow);
}

export type StatusHistoryItem = { status: number; err: number; eventAt: Date; receivedAt: Date };

/** A message's status events, oldest first. */
export async function statusHistory(db: Sql, key: MessageKey): Promise<StatusHistoryItem[]> {
  const rows = await db.query<{ status: number; err: number; event_at: Date; received_at: Date }>(
    `SELECT status, err, event_at, received_at FROM status_events
     WHERE phone = $1 AND account = $2 AND smsc_id = $3
     ORDER BY event_at, received_at, status`,
    [key.phone, key.account, key.smscId],
  );
  return rows.map((r) => ({ status: Number(r.status), err: Number(r.err), eventAt: toDate(r.event_at)!, receivedAt: toDate(r.received_at)! }));
}
