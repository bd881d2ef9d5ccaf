// `replay`: re-derives messages, status events, HLR results, numbers, rollups, opt-outs and events from the stored raw
// callbacks, through the same code the writer uses, after a parser, rule or IVR_FIELD_MAP change. Deriving is
// idempotent, so a second run changes nothing, and it takes the writer's locks in the writer's order, so it is safe
// while callbacks arrive.
import type { Config } from "../config.js";
import type { CallbackSource } from "../domain/callback.js";
import { parseQueryString } from "../domain/callback-body.js";
import { isDataError, isRetryableTxError, type Database } from "../db/client.js";
import { readCallbacks, reclassifyCallbacks, type RawCallback, type Reclassification } from "../db/queries/replay.js";
import { interpretCallback } from "./receive.js";
import { dedupeKey, storeDerived, type CallbackRecord, type Stored } from "./store.js";

/** Errors of the body itself: the body is read again from its stored bytes. */
const BODY_ERRORS = new Set(["unparseable_body", "bad_json", "bad_multipart", "too_many_fields"]);

export type ReplayResult = { scanned: number; derived: number; reclassified: number; unusable: number };

function sourceOf(r: RawCallback): CallbackSource {
  if (r.route === "/v1/import/receipts") return "import";
  return r.route.endsWith("/ivr") ? "ivr" : "main";
}

/** The record a stored callback makes with today's code and configuration. */
export function recordOf(r: RawCallback, config: Config): CallbackRecord {
  const source = sourceOf(r);
  let fields = r.fields;
  let normalizedFrom: { fields: Record<string, string>; bytes: Uint8Array; contentType: string | null } = { fields: r.fields, bytes: new Uint8Array(0), contentType: null };
  const rawBody = r.rawBodyBase64 === null ? null : new Uint8Array(Buffer.from(r.rawBodyBase64, "base64"));
  if (rawBody !== null && r.error !== null && BODY_ERRORS.has(r.error)) {
    // The stored fields are the query's; read the body again.
    normalizedFrom = { fields: r.rawQuery !== null ? parseQueryString(r.rawQuery) : r.fields, bytes: rawBody, contentType: r.contentType };
  }
  const { clean, normalized } = interpretCallback(normalizedFrom.fields, normalizedFrom.bytes, normalizedFrom.contentType, source, r.receivedAt, config.normalize);
  fields = clean.fields;
  return {
    account: r.account,
    source,
    method: r.method,
    route: r.route,
    contentType: r.contentType,
    sourceAddress: r.sourceAddress,
    fields,
    rawBody,
    rawQuery: r.rawQuery,
    receivedAt: r.receivedAt,
    signature: r.signature as CallbackRecord["signature"],
    normalized,
  };
}

export async function replay(
  db: Database,
  config: Config,
  options: { since: Date | null; batch?: number; clock?: () => Date; onProgress?: (r: ReplayResult) => void },
): Promise<ReplayResult> {
  const result: ReplayResult = { scanned: 0, derived: 0, reclassified: 0, unusable: 0 };
  const clock = options.clock ?? (() => new Date());
  let afterId = 0;
  for (;;) {
    const rows = await readCallbacks(db, { afterId, since: options.since, limit: options.batch ?? 500 });
    if (rows.length === 0) break;
    afterId = rows[rows.length - 1]!.id;
    const records = rows.map((r) => ({ raw: r, record: recordOf(r, config) }));
    const changes: Reclassification[] = records.map(({ raw, record }) => ({
      id: raw.id,
      kind: record.normalized.kind,
      error: record.normalized.error?.code ?? null,
      errorDetail: record.normalized.error?.message ?? null,
      phone: record.normalized.phone,
      smscId: record.normalized.smscId,
      account: raw.account,
      ...dedupeKey(record),
    }));
    const usable: Stored[] = records.filter(({ record }) => record.normalized.error === null).map(({ raw, record }) => ({ record, callbackId: raw.id }));
    const derive = async (c: readonly Reclassification[], u: readonly Stored[]) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await db.transaction(async (tx) => {
            await reclassifyCallbacks(tx, c);
            await storeDerived(tx, u, clock());
          });
        } catch (err) {
          if (isRetryableTxError(err) && attempt < 3) continue;
          throw err;
        }
      }
    };
    try {
      await derive(changes, usable);
    } catch (err) {
      if (!isDataError(err)) throw err;
      // One callback's data breaks the batch: derive them one by one; the ones that still fail keep their raw row.
      for (const change of changes) {
        const own = usable.filter((u) => u.callbackId === change.id);
        try {
          await derive([change], own);
        } catch (e) {
          if (!isDataError(e)) throw e;
          usable.splice(usable.indexOf(own[0]!), own.length);
          await derive([{ ...change, error: "store_failed", errorDetail: (e as Error).message }], []);
        }
      }
    }
    result.scanned += rows.length;
    result.derived += usable.length;
    result.unusable += rows.length - usable.length;
    result.reclassified += records.filter(({ raw, record }) => raw.kind !== record.normalized.kind || raw.error !== (record.normalized.error?.code ?? null)).length;
    options.onProgress?.(result);
  }
  return result;
}
