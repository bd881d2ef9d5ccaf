// Event tables fed by callbacks: HLR answers, incoming SMS, wait-call and IVR events.
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
       "eventAt" timestamptz, "receivedAt" timestamptz, fields jsonb, "callbackId" bigint)`,
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
       fields jsonb, "callbackId" bigint)`,
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
       "eventAt" timestamptz, "receivedAt" timestamptz, fields jsonb, "callbackId" bigint)`,
    [JSON.stringify(rows)],
  );
}
