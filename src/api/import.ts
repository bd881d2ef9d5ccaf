// POST /v1/import/receipts: status strings in bulk (text/plain, streamed), one receipt a line:
// `phone<TAB>status string`, or the status string alone (matched by the message id). Each usable line is stored as
// if it had arrived as a callback, so sending the same file twice changes nothing.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../app.js";
import { requireScope } from "./auth.js";
import { normalizeCallback } from "../domain/callback.js";
import { parseStatusString } from "../domain/status-string.js";
import { decodeText } from "../domain/text-decode.js";
import { findPhonesBySmscIds } from "../db/queries/messages.js";
import { ProblemError } from "../http/problem.js";
import type { CallbackRecord } from "../ingest/store.js";
import { commonProblems, problem } from "./schemas.js";

export const IMPORT_CHUNK = 1000;
export const MAX_REJECTED_LISTED = 1000;

const ImportResultSchema = z
  .object({
    received: z.number().int().openapi({ description: "Non-empty lines read" }),
    stored: z.number().int(),
    duplicates: z.number().int().openapi({ description: "Lines already stored (by an earlier import or callback)" }),
    unmatched: z.number().int().openapi({ description: "Lines without a phone whose id matched no message, or several (code `ambiguous`)" }),
    rejected_total: z.number().int().openapi({ description: "Lines not stored: unmatched, ambiguous or unusable" }),
    rejected: z
      .array(z.object({ line: z.number().int(), code: z.string(), message: z.string() }))
      .openapi({ description: `The first ${MAX_REJECTED_LISTED} lines not stored, with why (1-based line numbers)` }),
  })
  .openapi("ImportResult");

const QuerySchema = z.object({
  account: z.string().min(1).max(64).optional().openapi({ description: "The SMSC account the receipts belong to (default: the first configured, else `default`)" }),
});

type Line = { line: number; phone: string | null; receipt: string };

/** Splits a byte stream into lines (LF, with an optional CR before it), decoding each as UTF-8 or windows-1251. */
async function* readLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest: Uint8Array = new Uint8Array(0);
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const buf = rest.length > 0 ? Buffer.concat([rest, value]) : value;
    let start = 0;
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, start)) {
      const end = i > start && buf[i - 1] === 13 ? i - 1 : i;
      yield decodeText(buf.subarray(start, end));
      start = i + 1;
    }
    rest = buf.slice(start);
  }
  if (rest.length > 0) yield decodeText(rest[rest.length - 1] === 13 ? rest.subarray(0, rest.length - 1) : rest);
}

export function mountImportRoute(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const { config, writer, db } = deps;
  const defaultAccount = config.accounts[0]?.name ?? "default";
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/import/receipts",
      tags: ["import"],
      summary: "Import SMPP delivery receipts and SMSC HLR strings in bulk",
      description:
        "The body is text/plain, streamed, any number of lines (it is not bound by API_BODY_LIMIT). Lines are stored in chunks " +
        "as they arrive; a failure part-way (503) leaves earlier chunks stored, and sending the file again completes it.",
      security: [{ bearer: [] }],
      middleware: [requireScope("write")] as const,
      request: {
        query: QuerySchema,
        body: { required: true, content: { "text/plain": { schema: z.string().openapi({ example: "79161234567\tid:48213 sub:001 dlvrd:001 submit date:2406051403 done date:2406051404 stat:DELIVRD err:000 text:Hello" }) } } },
      },
      responses: {
        200: { description: "What was stored", content: { "application/json": { schema: ImportResultSchema } } },
        ...commonProblems,
        415: problem("The body is not text/plain"),
        503: problem("The database is unavailable; the chunks stored so far stay stored"),
      },
    }),
    async (c) => {
      const contentType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
      if (contentType !== "text/plain") {
        throw new ProblemError(415, "Unsupported media type", "send the receipts as text/plain, one a line");
      }
      const account = c.req.valid("query").account ?? defaultAccount;
      const result = { received: 0, stored: 0, duplicates: 0, unmatched: 0, rejected_total: 0, rejected: [] as { line: number; code: string; message: string }[] };
      const reject = (line: number, code: string, message: string) => {
        result.rejected_total++;
        if (result.rejected.length < MAX_REJECTED_LISTED) result.rejected.push({ line, code, message });
      };

      const flush = async (chunk: Line[]) => {
        const receivedAt = deps.clock();
        const phoneless = new Map<number, string>();
        for (const l of chunk) {
          if (l.phone !== null) continue;
          const parsed = parseStatusString(l.receipt);
          if (parsed.ok && parsed.value.id) phoneless.set(l.line, parsed.value.id);
        }
        const phonesById = await findPhonesBySmscIds(db, account, [...phoneless.values()]);
        const records: CallbackRecord[] = [];
        for (const l of chunk) {
          let phone = l.phone;
          const id = phoneless.get(l.line);
          if (phone === null && id !== undefined) {
            const phones = phonesById.get(id) ?? [];
            if (phones.length !== 1) {
              result.unmatched++;
              reject(l.line, phones.length === 0 ? "unmatched" : "ambiguous", phones.length === 0 ? `no message with id ${id}` : `${phones.length} messages have id ${id}: add the phone`);
              continue;
            }
            phone = phones[0]!;
          }
          const fields: Record<string, string> = phone === null ? { receipt: l.receipt } : { phone, receipt: l.receipt };
          const normalized = normalizeCallback(fields, "import", receivedAt, { timeZone: config.smscTimezone, defaultCountry: config.defaultCountry });
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
        for (const outcome of await writer.storeNow(records)) {
          if (outcome === "stored") result.stored++;
          else result.duplicates++;
        }
      };

      let chunk: Line[] = [];
      let lineNo = 0;
      if (c.req.raw.body) {
        for await (const text of readLines(c.req.raw.body)) {
          lineNo++;
          const line = text.replaceAll("\u0000", "").trim();
          if (line === "") continue;
          result.received++;
          const tab = line.indexOf("\t");
          chunk.push(tab >= 0 ? { line: lineNo, phone: line.slice(0, tab).trim() || null, receipt: line.slice(tab + 1) } : { line: lineNo, phone: null, receipt: line });
          if (chunk.length >= IMPORT_CHUNK) {
            await flush(chunk);
            chunk = [];
          }
        }
      }
      if (chunk.length > 0) await flush(chunk);
      return c.json(result, 200);
    },
  );
}
