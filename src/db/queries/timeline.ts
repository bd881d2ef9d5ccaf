// A number's timeline: every message (when it was sent or first seen), status change, HLR answer, IVR event,
// incoming SMS and wait-call event for one phone, newest first, keyset-paginated on (at, source rank, id).
import type { HlrFacts } from "../../domain/callback.js";
import { jsonColumn, type Sql } from "../client.js";

export const TIMELINE_KINDS = ["message", "status", "hlr", "ivr", "incoming", "waitcall"] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/** Order of the sources at the same instant (compared descending): a message's statuses come after the message. */
const RANK: Record<TimelineKind, number> = { message: 0, status: 1, hlr: 2, ivr: 3, incoming: 4, waitcall: 5 };

/** Where a page ends: the last row's time (microseconds, as text), source rank and id. */
export type TimelineCursor = { at: string; rank: number; id: number };

type Base = { at: Date; cursor: TimelineCursor; account: string };

export type TimelineRow =
  | (Base & {
      kind: "message";
      smscId: string;
      type: number | null;
      status: number | null;
      err: number | null;
      registered: boolean;
      sender: string | null;
      campaign: string | null;
    })
  | (Base & { kind: "status"; smscId: string; type: number | null; status: number; err: number })
  | (Base & HlrFacts & { kind: "hlr"; smscId: string; status: number; err: number })
  | (Base & { kind: "ivr"; smscId: string | null; menuPath: string | null; seconds: number | null })
  | (Base & { kind: "incoming"; smscId: string | null; to: string | null; text: string })
  | (Base & { kind: "waitcall" });

const AT_KEY = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * One page of a phone's timeline, newest first, after `cursor` (exclusive). Each source reads at most `limit` rows
 * past the cursor through its phone index, then the pages are merged.
 */
export async function listTimeline(db: Sql, phone: string, cursor: TimelineCursor | null, limit: number): Promise<TimelineRow[]> {
  const after = (at: string, rank: number) =>
    `($2::timestamptz IS NULL OR (${at}, ${rank}, id) < ($2::timestamptz, $3::int, $4::bigint))`;
  const source = (rank: number, at: string, table: string, details: string, where = "") =>
    `(SELECT ${rank} AS rank, id, ${at} AS at, ${AT_KEY(at)} AS at_key, account, ${details} AS d
      FROM ${table} WHERE phone = $1 ${where} AND ${after(at, rank)}
      ORDER BY ${at} DESC, id DESC LIMIT $5)`;
  const rows = await db.query<{ rank: number; id: string | number; at: string | Date; at_key: string; account: string; d: Record<string, unknown> }>(
    `SELECT rank, id::text AS id, at, at_key, account, d FROM (
       ${source(
         RANK.message,
         "coalesce(placed_at, created_at)",
         "messages",
         `jsonb_build_object('smsc_id', smsc_id, 'type', type, 'status', status, 'err', err, 'registered', registered,
            'sender', sender, 'campaign', campaign)`,
       )}
       UNION ALL
       ${source(
         RANK.status,
         "event_at",
         "status_events s",
         `jsonb_build_object('smsc_id', smsc_id, 'type', type, 'status', status, 'err', err)`,
         // An HLR answer is listed once, as an HLR item.
         `AND NOT EXISTS (SELECT 1 FROM hlr_results h WHERE h.phone = s.phone AND h.account = s.account AND h.smsc_id = s.smsc_id
                            AND h.status = s.status AND h.err = s.err AND h.event_at = s.event_at)`,
       )}
       UNION ALL
       ${source(
         RANK.hlr,
         "event_at",
         "hlr_results",
         `jsonb_build_object('smsc_id', smsc_id, 'status', status, 'err', err, 'imsi', imsi, 'msc', msc, 'mcc', mcc, 'mnc', mnc,
            'country', country, 'network', network, 'roaming', roaming, 'roaming_country', roaming_country,
            'roaming_network', roaming_network)`,
       )}
       UNION ALL
       ${source(RANK.ivr, "event_at", "ivr_events", `jsonb_build_object('smsc_id', smsc_id, 'menu_path', menu_path, 'seconds', seconds)`)}
       UNION ALL
       ${source(RANK.incoming, "event_at", "incoming_messages", `jsonb_build_object('smsc_id', smsc_id, 'to', to_phone, 'text', text)`)}
       UNION ALL
       ${source(RANK.waitcall, "event_at", "waitcall_events", `'{}'::jsonb`)}
     ) t
     ORDER BY at DESC, rank DESC, id DESC
     LIMIT $5`,
    [phone, cursor?.at ?? null, cursor?.rank ?? null, cursor?.id ?? null, limit],
  );
  return rows.map((r) => toRow(r));
}

const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toRow(r: { rank: number; id: string | number; at: string | Date; at_key: string; account: string; d: Record<string, unknown> }): TimelineRow {
  const rank = Number(r.rank);
  const base: Base = { at: new Date(r.at), cursor: { at: r.at_key, rank, id: Number(r.id) }, account: r.account };
  const d = jsonColumn(r.d)!;
  switch (rank) {
    case RANK.message:
      return {
        ...base,
        kind: "message",
        smscId: String(d.smsc_id),
        type: n(d.type),
        status: n(d.status),
        err: n(d.err),
        registered: Boolean(d.registered),
        sender: s(d.sender),
        campaign: s(d.campaign),
      };
    case RANK.status:
      return { ...base, kind: "status", smscId: String(d.smsc_id), type: n(d.type), status: Number(d.status), err: Number(d.err) };
    case RANK.hlr:
      return {
        ...base,
        kind: "hlr",
        smscId: String(d.smsc_id),
        status: Number(d.status),
        err: Number(d.err),
        imsi: s(d.imsi),
        msc: s(d.msc),
        mcc: s(d.mcc),
        mnc: s(d.mnc),
        country: s(d.country),
        network: s(d.network),
        roaming: d.roaming === null || d.roaming === undefined ? null : Boolean(d.roaming),
        roamingCountry: s(d.roaming_country),
        roamingNetwork: s(d.roaming_network),
      };
    case RANK.ivr:
      return { ...base, kind: "ivr", smscId: s(d.smsc_id), menuPath: s(d.menu_path), seconds: n(d.seconds) };
    case RANK.incoming:
      return { ...base, kind: "incoming", smscId: s(d.smsc_id), to: s(d.to), text: String(d.text ?? "") };
    default:
      return { ...base, kind: "waitcall" };
  }
}
