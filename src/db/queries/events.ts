// Event tables fed by callbacks: HLR answers, incoming SMS, wait-call and IVR events. Each is written at most once
// per callback (unique keys on the callback id), so re-deriving a callback (replay) adds nothing twice.
import type { HlrFacts } from "../../domain/callback.js";
import type { Sql } from "../client.js";

export type HlrResultRow = HlrFacts & {
  account: string;
  smscId: string;
  phone: string;
  status: number;
  err: number;
  eventAt: Date;
  receivedAt: Date;
  callbackId: number;
};

export async function insertHlrResults(tx: Sql, rows: readonly HlrResultRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO hlr_results (account, smsc_id, phone, status, err, imsi, msc, mcc, mnc, country, network,
       roaming_country, roaming_network, roaming, event_at, received_at, callback_id)
     SELECT account, "smscId", phone, status, err, imsi, msc, mcc, mnc, country, network, "roamingCountry",
       "roamingNetwork", roaming, "eventAt", "receivedAt", "callbackId"
     FROM json_to_recordset($1::text::json) AS t(account text, "smscId" text, phone text, status smallint, err int,
       imsi text, msc text, mcc text, mnc text, country text, network text, "roamingCountry" text,
       "roamingNetwork" text, roaming boolean, "eventAt" timestamptz, "receivedAt" timestamptz, "callbackId" bigint)
     ORDER BY phone, account, "smscId", status, err, "eventAt"
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

export type IncomingRow = {
  account: string;
  smscId: string | null;
  phone: string;
  to: string | null;
  text: string;
  eventAt: Date;
  receivedAt: Date;
  fields: Record<string, string>;
  callbackId: number;
};

export async function insertIncomingMessages(tx: Sql, rows: readonly IncomingRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO incoming_messages (account, smsc_id, phone, to_phone, text, event_at, received_at, fields, callback_id)
     SELECT account, "smscId", phone, "to", text, "eventAt", "receivedAt", fields, "callbackId"
     FROM json_to_recordset($1::text::json) AS t(account text, "smscId" text, phone text, "to" text, text text,
       "eventAt" timestamptz, "receivedAt" timestamptz, fields jsonb, "callbackId" bigint)
     ORDER BY phone, "callbackId"
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

export type WaitcallRow = {
  account: string;
  phone: string;
  eventAt: Date;
  receivedAt: Date;
  fields: Record<string, string>;
  callbackId: number;
};

export async function insertWaitcallEvents(tx: Sql, rows: readonly WaitcallRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO waitcall_events (account, phone, event_at, received_at, fields, callback_id)
     SELECT account, phone, "eventAt", "receivedAt", fields, "callbackId"
     FROM json_to_recordset($1::text::json) AS t(account text, phone text, "eventAt" timestamptz, "receivedAt" timestamptz,
       fields jsonb, "callbackId" bigint)
     ORDER BY phone, "callbackId"
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

export type IvrRow = {
  account: string;
  smscId: string | null;
  phone: string | null;
  menuPath: string | null;
  seconds: number | null;
  eventAt: Date;
  receivedAt: Date;
  fields: Record<string, string>;
  callbackId: number;
};

export async function insertIvrEvents(tx: Sql, rows: readonly IvrRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO ivr_events (account, smsc_id, phone, menu_path, seconds, event_at, received_at, fields, callback_id)
     SELECT account, "smscId", phone, "menuPath", seconds, "eventAt", "receivedAt", fields, "callbackId"
     FROM json_to_recordset($1::text::json) AS t(account text, "smscId" text, phone text, "menuPath" text, seconds int,
       "eventAt" timestamptz, "receivedAt" timestamptz, fields jsonb, "callbackId" bigint)
     ORDER BY "callbackId"
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

export type StoredIncoming = { id: number; account: string; smscId: string | null; phone: string; to: string | null; text: string; eventAt: Date; receivedAt: Date };

/** Incoming SMS received in [from, to), newest first (by the message's time). */
export async function listIncoming(
  db: Sql,
  f: { from: Date; to: Date; phone?: string | undefined; after?: { eventAt: Date; id: number } | undefined; limit: number },
): Promise<StoredIncoming[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT id::text AS id, account, smsc_id, phone, to_phone, text, event_at, received_at
     FROM incoming_messages
     WHERE event_at >= $1 AND event_at < $2
       AND ($3::text IS NULL OR phone = $3)
       AND ($4::timestamptz IS NULL OR (event_at, id) < ($4::timestamptz, $5::bigint))
     ORDER BY event_at DESC, id DESC
     LIMIT $6`,
    [f.from, f.to, f.phone ?? null, f.after?.eventAt ?? null, f.after?.id ?? null, f.limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    account: r.account as string,
    smscId: (r.smsc_id as string | null) ?? null,
    phone: r.phone as string,
    to: (r.to_phone as string | null) ?? null,
    text: r.text as string,
    eventAt: new Date(r.event_at as string | Date),
    receivedAt: new Date(r.received_at as string | Date),
  }));
}

/** A number's wait-call events since a time, newest first (at most `limit`). */
export async function findWaitcalls(db: Sql, phone: string, since: Date | null, limit: number): Promise<{ account: string; eventAt: Date; receivedAt: Date }[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT account, event_at, received_at FROM waitcall_events
     WHERE phone = $1 AND ($2::timestamptz IS NULL OR event_at >= $2)
     ORDER BY event_at DESC
     LIMIT $3`,
    [phone, since, limit],
  );
  return rows.map((r) => ({ account: r.account as string, eventAt: new Date(r.event_at as string | Date), receivedAt: new Date(r.received_at as string | Date) }));
}
