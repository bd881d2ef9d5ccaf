// Raw callbacks and their dedupe keys. Bulk writes pass their rows as one JSON parameter
// (`json_to_recordset`), so a batch of any size is one parameterised statement on either driver.
import type { Sql } from "../client.js";

/** A callback's columns, as stored. */
type CallbackColumns = {
  account: string;
  kind: string;
  method: string;
  route: string;
  contentType: string | null;
  sourceAddress: string | null;
  fields: Record<string, string>;
  /** Base64 of the body as received, when the fields could not be read from it faithfully. */
  rawBodyBase64: string | null;
  /** The query string as received (token removed), kept likewise. */
  rawQuery: string | null;
  receivedAt: Date;
  phone: string | null;
  smscId: string | null;
  signature: string | null;
  error: string | null;
  errorDetail: string | null;
};

export type CallbackRow = CallbackColumns & {
  /** Position in the batch; returned so the caller can match results. */
  i: number;
  /** The dedupe key and the phone it is filed under. */
  key: string;
  keyPhone: string;
};

/**
 * Inserts the callbacks whose dedupe key is new, and their keys. Returns, for each input row, the id of its new
 * callback row, or null when its key was already stored (a duplicate). Keys are inserted in key order.
 */
export async function insertNewCallbacks(tx: Sql, rows: readonly CallbackRow[]): Promise<Map<number, number | null>> {
  const result = await tx.query<{ i: number; id: string | number | null }>(
    `WITH input AS (
       SELECT * FROM json_to_recordset($1::text::json) AS t(
         i int, account text, kind text, method text, route text, "contentType" text, "sourceAddress" text,
         fields jsonb, "rawBodyBase64" text, "rawQuery" text, "receivedAt" timestamptz, phone text, "smscId" text, signature text,
         error text, "errorDetail" text, key text, "keyPhone" text)
     ),
     keys AS (
       INSERT INTO callback_keys (account, phone, key, callback_id)
       SELECT account, "keyPhone", key, nextval('callbacks_id_seq') FROM input ORDER BY account, "keyPhone", key
       ON CONFLICT DO NOTHING
       RETURNING account, phone, key, callback_id
     ),
     stored AS (
       INSERT INTO callbacks (id, account, kind, method, route, content_type, source_address, fields, raw_body,
                              raw_query, received_at, phone, smsc_id, signature, error, error_detail)
       OVERRIDING SYSTEM VALUE
       SELECT keys.callback_id, input.account, kind, method, route, "contentType", "sourceAddress", fields,
              decode("rawBodyBase64", 'base64'), "rawQuery", "receivedAt", input.phone, "smscId", signature, error, "errorDetail"
       FROM input JOIN keys ON keys.account = input.account AND keys.phone = input."keyPhone" AND keys.key = input.key
       RETURNING id
     )
     SELECT input.i, keys.callback_id::text AS id
     FROM input LEFT JOIN keys ON keys.account = input.account AND keys.phone = input."keyPhone" AND keys.key = input.key`,
    [JSON.stringify(rows)],
  );
  return new Map(result.map((r) => [r.i, r.id === null ? null : Number(r.id)]));
}

export type CallbackFilter = {
  kind?: string | undefined;
  /** true: only unusable callbacks; false: only usable; a string: that error code. */
  error?: boolean | string | undefined;
  account?: string | undefined;
  from: Date;
  to: Date;
  /** Keyset cursor: the (received_at, id) of the last row of the previous page. */
  after?: { receivedAt: Date; id: number } | undefined;
  limit: number;
};

export type StoredCallback = CallbackColumns & { id: number };

/** Stored callbacks, newest first. */
export async function listCallbacks(db: Sql, f: CallbackFilter): Promise<StoredCallback[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT ${CALLBACK_COLUMNS}
     FROM callbacks
     WHERE received_at >= $1 AND received_at < $2
       AND ($3::text IS NULL OR kind = $3)
       AND ($4::text IS NULL OR account = $4)
       AND ($5::text IS NULL
            OR ($5 = 'true' AND error IS NOT NULL)
            OR ($5 = 'false' AND error IS NULL)
            OR ($5 NOT IN ('true', 'false') AND error = $5))
       AND ($6::timestamptz IS NULL OR (received_at, id) < ($6::timestamptz, $7::bigint))
     ORDER BY received_at DESC, id DESC
     LIMIT $8`,
    [
      f.from,
      f.to,
      f.kind ?? null,
      f.account ?? null,
      f.error === undefined ? null : String(f.error),
      f.after?.receivedAt ?? null,
      f.after?.id ?? null,
      f.limit,
    ],
  );
  return rows.map(callbackFromRow);
}

/** The columns `callbackFromRow` reads. */
export const CALLBACK_COLUMNS = `id::text AS id, account, kind, method, route, content_type, source_address, fields,
  encode(raw_body, 'base64') AS raw_body, raw_query, received_at, phone, smsc_id, signature, error, error_detail`;

export function callbackFromRow(r: Record<string, unknown>): StoredCallback {
  return {
    id: Number(r.id),
    account: r.account as string,
    kind: r.kind as string,
    method: r.method as string,
    route: r.route as string,
    contentType: (r.content_type as string | null) ?? null,
    sourceAddress: (r.source_address as string | null) ?? null,
    fields: r.fields as Record<string, string>,
    rawBodyBase64: r.raw_body === null || r.raw_body === undefined ? null : String(r.raw_body).replace(/\n/g, ""),
    rawQuery: (r.raw_query as string | null) ?? null,
    receivedAt: new Date(r.received_at as string | Date),
    phone: (r.phone as string | null) ?? null,
    smscId: (r.smsc_id as string | null) ?? null,
    signature: (r.signature as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    errorDetail: (r.error_detail as string | null) ?? null,
  };
}
