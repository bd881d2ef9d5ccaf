// Callback records as the HTTP layer hands them to the writer, for tests that drive the writer directly.
import { parseConfig } from "../../../src/config.js";
import { normalizeCallback } from "../../../src/domain/callback.js";
import type { CallbackRecord } from "../../../src/ingest/store.js";

const normalize = parseConfig({}).normalize;

/** A delivery status callback (SMSC's form fields) for message `id`, received now. */
export function statusRecord(id: string, { status = "1", phone = "79161234567", ts = "1717585400" } = {}): CallbackRecord {
  const fields = { id, phone, status, err: "0", ts };
  const receivedAt = new Date();
  return {
    account: "default",
    source: "main",
    method: "POST",
    route: "/callbacks/smsc",
    contentType: "application/x-www-form-urlencoded",
    sourceAddress: "127.0.0.1",
    fields,
    rawBody: null,
    rawQuery: null,
    receivedAt,
    signature: null,
    normalized: normalizeCallback(fields, "main", receivedAt, normalize),
  };
}
