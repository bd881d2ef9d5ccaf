// Stores a batch of callbacks in one transaction: the raw rows (deduplicated), then everything derived from them.
// Tables are written in a fixed order, each with its rows sorted by key, so concurrent writers (other requests,
// other instances) never deadlock: callback_keys, callbacks, status_events, hlr_results, messages, delivery_rollups,
// numbers, incoming_messages, opt_outs, waitcall_events, ivr_events.
import { createHash } from "node:crypto";
import type { CallbackSource, Fields, NormalizedCallback, StatusUpdate } from "../domain/callback.js";
import { applyStatusUpdates, messageOutcome } from "../domain/message-state.js";
import { TYPE_HLR, TYPE_PING } from "../domain/message-types.js";
import { statusClass } from "../domain/statuses.js";
import type { Sql } from "../db/client.js";
import { insertNewCallbacks, type CallbackRow } from "../db/queries/callbacks.js";
import {
  insertHlrResults,
  insertIncomingMessages,
  insertIvrEvents,
  insertWaitcallEvents,
} from "../db/queries/events.js";
import { insertStatusEvents, lockMessages, messageKeyString, type MessageKey } from "../db/queries/messages.js";
import { findNumberOperators, upsertNumbers, type NumberUpdate } from "../db/queries/numbers.js";
import { upsertOptOuts, type OptOutRow } from "../db/queries/opt-outs.js";
import { applyMessageChanges, type DeriveOptions, type MessageChange } from "./message-changes.js";

/** A received callback, ready to store: what arrived, and what it means. */
export type CallbackRecord = {
  account: string;
  source: CallbackSource;
  method: string;
  route: string;
  contentType: string | null;
  sourceAddress: string | null;
  fields: Fields;
  /** The body as received, kept when the fields could not be read from it faithfully. */
  rawBody: Uint8Array | null;
  /** The query string as received (token removed), kept likewise. */
  rawQuery: string | null;
  receivedAt: Date;
  /** Signature check result: null when not checked. */
  signature: "ok" | "bad" | "missing" | null;
  normalized: NormalizedCallback;
};

export type StoreOutcome = "stored" | "duplicate";

export function dedupeKey(record: CallbackRecord): { key: string; keyPhone: string } {
  return {
    key: createHash("sha256").update(record.normalized.dedupe).digest("hex"),
    keyPhone: record.normalized.phone ?? "",
  };
}

/** A callback's dedupe key, with the account and phone it is filed under, as one string (a Map key). */
const callbackKeyString = (account: string, phone: string, key: string) => `${account}\u0000${phone}\u0000${key}`;

/**
 * The rows of a record that a retry or a later status of the same message would also write: its dedupe key and,
 * for a status, its message. The writer keeps two lanes from writing the same ones at once, or the second would
 * wait for the first's commit with its whole batch. (Rows many callbacks share, such as a number's row and the
 * statistics cells, are still locked in turn; those locks are taken last and held only until the commit.)
 */
export function contendedKeys(record: CallbackRecord): string[] {
  const n = record.normalized;
  const keys = [`k\u0000${callbackKeyString(record.account, n.phone ?? "", n.dedupe)}`];
  if (n.status) keys.push(`m\u0000${messageKeyString({ account: record.account, smscId: n.status.smscId, phone: n.status.phone })}`);
  return keys;
}

function toCallbackRow(record: CallbackRecord, i: number, storeError?: { code: string; message: string }): CallbackRow {
  const n = record.normalized;
  const error = storeError ?? n.error;
  return {
    i,
    account: record.account,
    kind: n.kind,
    method: record.method,
    route: record.route,
    contentType: record.contentType,
    sourceAddress: record.sourceAddress,
    fields: record.fields,
    rawBodyBase64: record.rawBody ? Buffer.from(record.rawBody).toString("base64") : null,
    rawQuery: record.rawQuery,
    receivedAt: record.receivedAt,
    phone: n.phone,
    smscId: n.smscId,
    signature: record.signature,
    error: error?.code ?? null,
    errorDetail: error?.message ?? null,
    ...dedupeKey(record),
  };
}

/**
 * Stores the records and their derived rows in the transaction `tx`. Returns, per record, whether it was new.
 * Records with the same dedupe key are merged: the first is stored, the others are duplicates.
 */
export async function storeCallbacks(tx: Sql, records: readonly CallbackRecord[], now: Date, options: DeriveOptions = {}): Promise<StoreOutcome[]> {
  const rows = records.map((r, i) => toCallbackRow(r, i));
  const firstByKey = new Map<string, number>();
  const unique: CallbackRow[] = [];
  for (const row of rows) {
    const k = callbackKeyString(row.account, row.keyPhone, row.key);
    if (!firstByKey.has(k)) {
      firstByKey.set(k, row.i);
      unique.push(row);
    }
  }
  const ids = await insertNewCallbacks(tx, unique);
  const outcomes: StoreOutcome[] = rows.map((row) => {
    const first = firstByKey.get(callbackKeyString(row.account, row.keyPhone, row.key));
    return first === row.i && ids.get(row.i) != null ? "stored" : "duplicate";
  });
  const stored = records
    .map((record, i) => ({ record, callbackId: ids.get(i) ?? null, i }))
    .filter((s): s is { record: CallbackRecord; callbackId: number; i: number } => outcomes[s.i] === "stored" && s.callbackId !== null);
  await storeDerived(tx, stored, now, options);
  return outcomes;
}

/** Stores one record raw only, flagged with why its derived rows could not be written. */
export async function storeRawOnly(tx: Sql, record: CallbackRecord, error: { code: string; message: string }): Promise<StoreOutcome> {
  const ids = await insertNewCallbacks(tx, [toCallbackRow(record, 0, error)]);
  return ids.get(0) != null ? "stored" : "duplicate";
}

export type Stored = { record: CallbackRecord; callbackId: number };

/** Writes everything derived from stored callbacks. Idempotent: deriving the same callback again changes nothing. */
export async function storeDerived(tx: Sql, stored: readonly Stored[], now: Date, options: DeriveOptions = {}): Promise<void> {
  const statuses: StatusOf[] = [];
  for (const s of stored) {
    const u = s.record.normalized.status;
    if (u) statuses.push({ s, u });
  }

  const numberUpdates = new Map<string, NumberUpdate>();
  const numberFor = (s: Stored): NumberUpdate | null => {
    const n = s.record.normalized;
    if (n.numberPhone === null) return null;
    let u = numberUpdates.get(n.numberPhone);
    if (!u) {
      u = emptyNumberUpdate(n.numberPhone, n.numberCountry, s.record.receivedAt);
      numberUpdates.set(n.numberPhone, u);
    }
    u.countryIso ??= n.numberCountry;
    if (s.record.receivedAt < u.seenFirst) u.seenFirst = s.record.receivedAt;
    if (s.record.receivedAt > u.seenLast) u.seenLast = s.record.receivedAt;
    return u;
  };

  // Messages: merge the batch's updates per message, lock the rows in key order, apply, write back.
  const byMessage = new Map<string, { key: MessageKey; updates: StatusUpdate[]; numberPhone: string | null; countryIso: string | null }>();
  for (const { s, u } of statuses) {
    const key: MessageKey = { account: s.record.account, smscId: u.smscId, phone: u.phone };
    const k = messageKeyString(key);
    const entry = byMessage.get(k) ?? { key, updates: [], numberPhone: s.record.normalized.numberPhone, countryIso: s.record.normalized.numberCountry };
    entry.updates.push(u);
    byMessage.set(k, entry);

    const number = numberFor(s);
    if (number) foldStatusIntoNumber(number, u);
  }
  // Statements that need no answer from each other are sent together: postgres.js pipelines them on the
  // transaction's connection (PGlite runs them in turn). They still run in the order sent, the fixed table order.
  const messageKeys = [...byMessage.values()].map((e) => e.key);
  const [, , locked, operators] = await Promise.all([
    insertStatusEvents(tx, statusEventRows(statuses)),
    insertHlrResults(tx, hlrResultRows(statuses)),
    lockMessages(tx, messageKeys, now),
    // The operator of each number's latest HLR answer (this batch's included), to place a new message.
    findNumberOperators(tx, messageKeys.map((k) => k.phone)),
  ]);
  const changed: MessageChange[] = [];
  for (const m of locked) {
    const entry = byMessage.get(messageKeyString(m));
    if (!entry) continue;
    const isFresh = m.state.firstStatusAt === null && !m.state.registered;
    const next = applyStatusUpdates(m.state, entry.updates, {
      countryIso: entry.countryIso,
      numberOperator: isFresh ? (operators.get(m.phone) ?? null) : null,
    });
    changed.push({ id: m.id, account: m.account, before: m.state, state: next });
    const before = messageOutcome(m.state.status, m.state.type); // what was counted so far
    const after = messageOutcome(next.status, next.type);
    if (before !== after && entry.numberPhone !== null) {
      const number = numberUpdates.get(entry.numberPhone);
      if (number) {
        if (before === "delivered") number.deliveredDelta--;
        if (before === "failed") number.failedDelta--;
        if (after === "delivered") number.deliveredDelta++;
        if (after === "failed") number.failedDelta++;
      }
    }
  }

  for (const s of stored) if (s.record.normalized.status === null) numberFor(s);
  const fieldsRow = (s: Stored) => ({ account: s.record.account, receivedAt: s.record.receivedAt, fields: s.record.fields, callbackId: s.callbackId });
  await Promise.all([
    applyMessageChanges(tx, changed, now, options),
    upsertNumbers(tx, [...numberUpdates.values()]),
    insertIncomingMessages(
      tx,
      stored.flatMap((s) => (s.record.normalized.incoming ? [{ ...fieldsRow(s), ...s.record.normalized.incoming }] : [])),
    ),
    upsertOptOuts(tx, latestOptPerPhone(stored), now),
    insertWaitcallEvents(
      tx,
      stored.flatMap((s) => (s.record.normalized.waitcall ? [{ ...fieldsRow(s), ...s.record.normalized.waitcall }] : [])),
    ),
    insertIvrEvents(
      tx,
      stored.flatMap((s) => (s.record.normalized.ivr ? [{ ...fieldsRow(s), ...s.record.normalized.ivr }] : [])),
    ),
  ]);
}

type StatusOf = { s: Stored; u: StatusUpdate };

function statusEventRows(statuses: readonly StatusOf[]) {
  return statuses.map(({ s, u }) => ({
    account: s.record.account,
    smscId: u.smscId,
    phone: u.phone,
    type: u.type,
    status: u.status,
    err: u.err,
    eventAt: u.eventAt,
    receivedAt: s.record.receivedAt,
    callbackId: s.callbackId,
  }));
}

function hlrResultRows(statuses: readonly StatusOf[]) {
  return statuses
    .filter(({ u }) => u.hlr !== null)
    .map(({ s, u }) => ({
      account: s.record.account,
      smscId: u.smscId,
      phone: u.phone,
      status: u.status,
      err: u.err,
      ...u.hlr!,
      eventAt: u.eventAt,
      receivedAt: s.record.receivedAt,
      callbackId: s.callbackId,
    }));
}

/** The batch's deciding opt-out/opt-in message per phone: the latest; at the same instant an opt-out. */
function latestOptPerPhone(stored: readonly Stored[]): OptOutRow[] {
  const byPhone = new Map<string, OptOutRow>();
  for (const s of stored) {
    const m = s.record.normalized.incoming;
    if (!m?.opt) continue;
    const row: OptOutRow = { phone: m.phone, optedOut: m.opt.intent === "out", word: m.opt.word, message: m.text, eventAt: m.eventAt, account: s.record.account, callbackId: s.callbackId };
    const cur = byPhone.get(m.phone);
    if (!cur || row.eventAt > cur.eventAt || (row.eventAt.getTime() === cur.eventAt.getTime() && row.optedOut && !cur.optedOut)) byPhone.set(m.phone, row);
  }
  return [...byPhone.values()];
}

function emptyNumberUpdate(phone: string, countryIso: string | null, seen: Date): NumberUpdate {
  return {
    phone,
    countryIso,
    hlrAt: null,
    hlrStatus: null,
    hlrErr: null,
    imsi: null,
    msc: null,
    mcc: null,
    mnc: null,
    countryName: null,
    network: null,
    roaming: null,
    roamingCountry: null,
    roamingNetwork: null,
    fallbackMcc: null,
    fallbackMnc: null,
    statusAt: null,
    status: null,
    err: null,
    deliveredDelta: 0,
    failedDelta: 0,
    lastDeliveredAt: null,
    seenFirst: seen,
    seenLast: seen,
  };
}

/** Folds one status update into the batch's update of its number: the newest HLR answer and status win. */
function foldStatusIntoNumber(n: NumberUpdate, u: StatusUpdate): void {
  n.fallbackMcc ??= u.mcc;
  n.fallbackMnc ??= u.mnc;
  if (u.hlr !== null) {
    if (n.hlrAt === null || u.eventAt >= n.hlrAt) {
      Object.assign(n, {
        hlrAt: u.eventAt,
        hlrStatus: u.status,
        hlrErr: u.err,
        imsi: u.hlr.imsi,
        msc: u.hlr.msc,
        mcc: u.hlr.mcc,
        mnc: u.hlr.mnc,
        countryName: u.hlr.country,
        network: u.hlr.network,
        roaming: u.hlr.roaming,
        roamingCountry: u.hlr.roamingCountry,
        roamingNetwork: u.hlr.roamingNetwork,
      });
    }
    return;
  }
  if (u.type === TYPE_HLR || u.type === TYPE_PING) return;
  if (n.statusAt === null || u.eventAt >= n.statusAt) {
    n.statusAt = u.eventAt;
    n.status = u.status;
    n.err = u.err;
  }
  if (statusClass(u.status) === "delivered" && (n.lastDeliveredAt === null || u.eventAt > n.lastDeliveredAt)) {
    n.lastDeliveredAt = u.eventAt;
  }
}
