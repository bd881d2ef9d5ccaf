// Delivery rollups: per-cell counts, cost and latency histogram, moved by deltas in the writer's transaction.
import type { CellDelta } from "../../domain/rollup.js";
import type { Sql } from "../client.js";

/** Adds the deltas to their cells, in cell order (so concurrent writers never deadlock). */
export async function applyRollupDeltas(tx: Sql, deltas: readonly CellDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  await tx.query(
    `INSERT INTO delivery_rollups AS r (hour, account, mcc, mnc, country, type, sender, campaign, status, err, messages, cost,
       latency, latency_from_registered)
     SELECT hour, account, mcc, mnc, country, type, sender, campaign, status, err, messages, cost,
       ARRAY(SELECT v::int FROM json_array_elements_text(latency) WITH ORDINALITY AS e(v, i) ORDER BY i), "latencyFromRegistered"
     FROM json_to_recordset($1::text::json) AS t(hour timestamptz, account text, mcc text, mnc text, country text,
       type smallint, sender text, campaign text, status smallint, err int, messages int, cost numeric, latency json,
       "latencyFromRegistered" int)
     ORDER BY hour, account, mcc, mnc, country, type, sender, campaign, status, err
     ON CONFLICT ON CONSTRAINT delivery_rollups_cell_key DO UPDATE SET
       messages = r.messages + excluded.messages,
       cost = r.cost + excluded.cost,
       latency = ARRAY(SELECT a + b FROM unnest(r.latency, excluded.latency) WITH ORDINALITY AS x(a, b, i) ORDER BY i),
       latency_from_registered = r.latency_from_registered + excluded.latency_from_registered`,
    [JSON.stringify(deltas)],
  );
}
