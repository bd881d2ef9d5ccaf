// Per-number knowledge: latest HLR facts, last status, delivered and failed counts.
import { arrayParam, type Sql } from "../client.js";

/** One batch's contribution to a number, merged per phone by the caller. */
export type NumberUpdate = {
  phone: string;
  countryIso: string | null;
  /** The newest HLR answer in the batch, if any. */
  hlrAt: Date | null;
  hlrStatus: number | null;
  hlrErr: number | null;
  imsi: string | null;
  msc: string | null;
  mcc: string | null;
  mnc: string | null;
  countryName: string | null;
  network: string | null;
  roaming: boolean | null;
  roamingCountry: string | null;
  roamingNetwork: string | null;
  /** Operator from a message's mccmnc: used while no HLR answer named one. */
  fallbackMcc: string | null;
  fallbackMnc: string | null;
  /** The newest status event (not HLR or ping) in the batch, if any. */
  statusAt: Date | null;
  status: number | null;
  err: number | null;
  deliveredDelta: number;
  failedDelta: number;
  lastDeliveredAt: Date | null;
  seenFirst: Date;
  seenLast: Date;
};

/**
 * Folds a batch's updates into `numbers`, in phone order. Newer facts win; counters move by the deltas (a new row
 * starts from them: its messages are new in this batch, so they are not negative).
 */
export async function upsertNumbers(tx: Sql, rows: readonly NumberUpdate[]): Promise<void> {
  if (rows.length === 0) return;
  const newerHlr = `excluded.last_hlr_at IS NOT NULL AND (n.last_hlr_at IS NULL OR excluded.last_hlr_at >= n.last_hlr_at)`;
  const newerStatus = `excluded.last_status_at IS NOT NULL AND (n.last_status_at IS NULL OR excluded.last_status_at >= n.last_status_at)`;
  const hlrFact = (col: string) => `${col} = CASE WHEN ${newerHlr} THEN coalesce(excluded.${col}, n.${col}) ELSE n.${col} END`;
  await tx.query(
    `INSERT INTO numbers AS n (phone, country_iso, mcc, mnc, imsi, msc, country_name, network, roaming, roaming_country,
       roaming_network, last_hlr_at, last_hlr_status, last_hlr_err, last_status, last_err, last_status_at,
       delivered_count, failed_count, last_delivered_at, first_seen_at, last_seen_at)
     SELECT phone, "countryIso", coalesce(mcc, "fallbackMcc"), coalesce(mnc, "fallbackMnc"), imsi, msc, "countryName",
       network, roaming, "roamingCountry", "roamingNetwork", "hlrAt", "hlrStatus", "hlrErr", status, err, "statusAt",
       "deliveredDelta", "failedDelta", "lastDeliveredAt", "seenFirst", "seenLast"
     FROM json_to_recordset($1::text::json) AS t(phone text, "countryIso" text, "hlrAt" timestamptz, "hlrStatus" smallint,
       "hlrErr" int, imsi text, msc text, mcc text, mnc text, "countryName" text, network text, roaming boolean,
       "roamingCountry" text, "roamingNetwork" text, "fallbackMcc" text, "fallbackMnc" text, "statusAt" timestamptz,
       status smallint, err int, "deliveredDelta" int, "failedDelta" int, "lastDeliveredAt" timestamptz,
       "seenFirst" timestamptz, "seenLast" timestamptz)
     ORDER BY phone
     ON CONFLICT (phone) DO UPDATE SET
       country_iso = coalesce(n.country_iso, excluded.country_iso),
       ${hlrFact("imsi")}, ${hlrFact("msc")}, ${hlrFact("country_name")}, ${hlrFact("network")}, ${hlrFact("roaming")},
       roaming_country = CASE WHEN ${newerHlr} AND excluded.roaming IS NOT NULL THEN excluded.roaming_country ELSE n.roaming_country END,
       roaming_network = CASE WHEN ${newerHlr} AND excluded.roaming IS NOT NULL THEN excluded.roaming_network ELSE n.roaming_network END,
       mcc = CASE WHEN ${newerHlr} AND excluded.last_hlr_status IS NOT NULL THEN coalesce(excluded.mcc, n.mcc) ELSE coalesce(n.mcc, excluded.mcc) END,
       mnc = CASE WHEN ${newerHlr} AND excluded.last_hlr_status IS NOT NULL THEN coalesce(excluded.mnc, n.mnc) ELSE coalesce(n.mnc, excluded.mnc) END,
       last_hlr_status = CASE WHEN ${newerHlr} THEN excluded.last_hlr_status ELSE n.last_hlr_status END,
       last_hlr_err = CASE WHEN ${newerHlr} THEN excluded.last_hlr_err ELSE n.last_hlr_err END,
       last_hlr_at = CASE WHEN ${newerHlr} THEN excluded.last_hlr_at ELSE n.last_hlr_at END,
       last_status = CASE WHEN ${newerStatus} THEN excluded.last_status ELSE n.last_status END,
       last_err = CASE WHEN ${newerStatus} THEN excluded.last_err ELSE n.last_err END,
       last_status_at = CASE WHEN ${newerStatus} THEN excluded.last_status_at ELSE n.last_status_at END,
       delivered_count = n.delivered_count + excluded.delivered_count,
       failed_count = n.failed_count + excluded.failed_count,
       last_delivered_at = greatest(n.last_delivered_at, excluded.last_delivered_at),
       first_seen_at = least(n.first_seen_at, excluded.first_seen_at),
       last_seen_at = greatest(n.last_seen_at, excluded.last_seen_at)`,
    [JSON.stringify(rows)],
  );
}

/** The operator each number's latest HLR answer named (to place a new message that does not name its own). */
export async function findNumberOperators(db: Sql, phones: readonly string[]): Promise<Map<string, { mcc: string | null; mnc: string | null }>> {
  const result = new Map<string, { mcc: string | null; mnc: string | null }>();
  if (phones.length === 0) return result;
  const rows = await db.query<{ phone: string; mcc: string | null; mnc: string | null }>(
    `SELECT DISTINCT ON (phone) phone, mcc, mnc FROM hlr_results
     WHERE phone = ANY($1::text[]) AND mcc IS NOT NULL
     ORDER BY phone, event_at DESC, id DESC`,
    [arrayParam(phones)],
    { prepare: false },
  );
  for (const r of rows) result.set(r.phone, { mcc: r.mcc, mnc: r.mnc });
  return result;
}
