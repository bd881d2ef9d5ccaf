// POST /v1/import/receipts: status strings in bulk (text/plain, streamed), one receipt a line:
// `phone<TAB>status string`, or the status string alone (matched by the message id). Each usable line is stored as
// if it had arrived as a callback, so sending the same file twice changes nothing.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../app.js";
import { configuredAccounts } from "../config.js";
import { requireScope } from "./auth.js";
import { ProblemError } from "../http/problem.js";
import { importReceipts, MAX_LINE_BYTES, MAX_REJECTED_LISTED } from "../ingest/import-receipts.js";
import { AccountSchema, commonProblems, problem } from "./schemas.js";

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

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
  account: AccountSchema.optional().openapi({ description: "The SMSC account the receipts belong to (default: the first configured, else `default`)" }),
});

export function mountImportRoute(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const { config, writer, db } = deps;
  const { names: accounts, fallback: defaultAccount } = configuredAccounts(config);
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/import/receipts",
      tags: ["import"],
      summary: "Import SMPP delivery receipts and SMSC HLR strings in bulk",
      description:
        "The body is text/plain, streamed, any number of lines (it is not bound by API_BODY_LIMIT); a line over " +
        `${MAX_LINE_BYTES / 1024} KiB is rejected as \`line_too_long\`. Lines with a phone are stored in chunks as they arrive; ` +
        "lines without one are matched and stored after the whole file, so that sending the same file twice changes nothing. " +
        "A failure part-way (503) leaves earlier chunks stored: send the file again to complete it.",
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
      if (!accounts.has(account)) {
        throw ProblemError.validation([{ field: "account", message: `not a configured account (have: ${[...accounts].join(", ")})` }]);
      }
      const importDeps = { db, writer, clock: deps.clock, normalize: config.normalize };
      return c.json(await importReceipts(importDeps, account, c.req.raw.body ?? emptyBody()), 200);
    },
  );
}
