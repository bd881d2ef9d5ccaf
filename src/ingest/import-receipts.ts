// Bulk import of status strings: `phone<TAB>status string`, or the status string alone (matched to the one message
// of the account with that id). Each usable line is stored through the writer as if it had arrived as a callback,
// so importing the same file twice changes nothing: lines with a phone are stored as they stream in; lines without
// one are staged in the database and matched after the whole file is stored, so that they match the same messages
// on every run, and memory stays flat however large the file.
import { randomUUID } from "node:crypto";
import { normalizeCallback, type NormalizeOptions } from "../domain/callback.js";
import { splitLines } from "../domain/lines.js";
import { parseStatusString } from "../domain/status-string.js";
import { dropImportLines, readImportLines, stageImportLines, type StagedLine } from "../db/queries/import-lines.js";
import { findPhonesBySmscIds } from "../db/queries/messages.js";
import type { Sql } from "../db/client.js";
import type { CallbackRecord } from "./store.js";
import type { Writer } from "./writer.js";

export const IMPORT_CHUNK = 1000;
export const MAX_REJECTED_LISTED = 1000;
export const MAX_LINE_BYTES = 64 * 1024;

export type ImportResult = {
  received: number;
  stored: number;
  duplicates: number;
  unmatched: number;
  rejected_total: number;
  rejected: { line: number; code: string; message: string }[];
};

export type ImportDeps = { db: Sql; writer: Writer; clock: () => Date; normalize: NormalizeOptions };

type Line = { line: number; phone: string | null; receipt: string };

export async function importReceipts(deps: ImportDeps, account: string, body: AsyncIterable<Uint8Array>): Promise<ImportResult> {
  const result: ImportResult = { received: 0, stored: 0, duplicates: 0, unmatched: 0, rejected_total: 0, rejected: [] };
  const reject = (line: number, code: string, message: string) => {
    result.rejected_total++;
    if (result.rejected.length < MAX_REJECTED_LISTED) result.rejected.push({ line, code, message });
  };

  const store = async (lines: readonly Line[]) => {
    const receivedAt = deps.clock();
    const records: CallbackRecord[] = [];
    for (const l of lines) {
      const fields: Record<string, string> = l.phone === null ? { receipt: l.receipt } : { phone: l.phone, receipt: l.receipt };
      const normalized = normalizeCallback(fields, "import", receivedAt, deps.normalize);
      if (normalized.error) {
        reject(l.line, normalized.error.code, normalized.error.message);
        continue;
      }
      records.push({
        account,
        source: "import",
        method: "POST",
        route: "/v1/import/receipts",
        contentType: "text/plain",
        sourceAddress: null,
        fields,
        rawBody: null,
        rawQuery: null,
        receivedAt,
        signature: null,
        normalized,
      });
    }
    if (records.length === 0) return;
    for (const outcome of await deps.writer.storeNow(records)) {
      if (outcome === "stored") result.stored++;
      else result.duplicates++;
    }
  };

  /** Lines without a phone take the phone of the one message with their id. */
  const matchAndStore = async (lines: readonly (Line & { id: string })[]) => {
    const phonesById = await findPhonesBySmscIds(deps.db, account, lines.map((l) => l.id));
    const matched: Line[] = [];
    for (const l of lines) {
      const phones = phonesById.get(l.id) ?? [];
      if (phones.length === 1) matched.push({ ...l, phone: phones[0]! });
      else {
        result.unmatched++;
        if (phones.length === 0) reject(l.line, "unmatched", `no message with id ${l.id}`);
        else reject(l.line, "ambiguous", `${phones.length} messages have id ${l.id}: add the phone`);
      }
    }
    await store(matched);
  };

  // Lines without a phone are staged in the database as they stream in (memory stays flat), and matched once the
  // whole file is stored; the staging rows go when the import ends, however it ends.
  const importId = randomUUID();
  let withPhone: Line[] = [];
  let staged: StagedLine[] = [];
  let anyStaged = false;
  try {
    let lineNo = 0;
    for await (const raw of splitLines(body, MAX_LINE_BYTES)) {
      lineNo++;
      if (!raw.ok) {
        result.received++;
        reject(lineNo, "line_too_long", `the line has ${raw.bytes} bytes; at most ${MAX_LINE_BYTES}`);
        continue;
      }
      const text = raw.text.replaceAll("\u0000", "").trim();
      if (text === "") continue;
      result.received++;
      const tab = text.indexOf("\t");
      const phone = tab >= 0 ? text.slice(0, tab).trim() || null : null;
      const receipt = tab >= 0 ? text.slice(tab + 1) : text;
      if (phone !== null) {
        withPhone.push({ line: lineNo, phone, receipt });
        if (withPhone.length >= IMPORT_CHUNK) {
          await store(withPhone);
          withPhone = [];
        }
        continue;
      }
      const parsed = parseStatusString(receipt);
      if (!parsed.ok) reject(lineNo, parsed.error.code, parsed.error.message);
      else staged.push({ lineNo, smscId: parsed.value.id, receipt });
      if (staged.length >= IMPORT_CHUNK) {
        await stageImportLines(deps.db, importId, staged, deps.clock());
        anyStaged = true;
        staged = [];
      }
    }
    await store(withPhone);
    if (anyStaged) {
      await stageImportLines(deps.db, importId, staged, deps.clock());
      staged = [];
      for (let after = 0; ; ) {
        const page = await readImportLines(deps.db, importId, after, IMPORT_CHUNK);
        if (page.length === 0) break;
        await matchAndStore(page.map((l) => ({ line: l.lineNo, phone: null, receipt: l.receipt, id: l.smscId })));
        after = page[page.length - 1]!.lineNo;
      }
    } else {
      await matchAndStore(staged.map((l) => ({ line: l.lineNo, phone: null, receipt: l.receipt, id: l.smscId })));
    }
  } finally {
    if (anyStaged) await dropImportLines(deps.db, importId).catch(() => {});
  }
  result.rejected.sort((a, b) => a.line - b.line);
  return result;
}
