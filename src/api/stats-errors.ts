// GET /v1/stats/errors: each `err` code seen in a time range, with its count, meaning, permanence and the verdict
// class it points to. Read from the delivery rollups (each message counted once, in its current state).
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../app.js";
import { requireScope } from "./auth.js";
import { errorRow } from "../domain/errors.js";
import { errVerdictClass } from "../domain/verdict.js";
import { countMessagesByErr } from "../db/queries/verdicts.js";
import { commonProblems, iso, RangeQuerySchema, resolveRange , AccountSchema } from "./schemas.js";

const ErrorStatSchema = z
  .object({
    err: z.number().int(),
    count: z.number().int().openapi({ description: "Messages whose current state has this err" }),
    meaning: z.string().nullable().openapi({ description: "null for a code not in SMSC's table" }),
    permanence: z.enum(["permanent", "temporary", "other"]).openapi({ description: "How delivery statistics class a failure with this code" }),
    verdict_class: z
      .enum(["invalid", "barred_or_no_sms", "valid_absent"])
      .nullable()
      .openapi({ description: "The number verdict this code points to; null: neutral (ignored by verdicts)" }),
  })
  .openapi("ErrorStat");

const ErrorStatsSchema = z
  .object({ from: z.string(), to: z.string(), items: z.array(ErrorStatSchema).openapi({ description: "Most frequent first" }) })
  .openapi("ErrorStats");

const QuerySchema = RangeQuerySchema.extend({
  type: z
    .string()
    .regex(/^\d{1,2}(,\d{1,2})*$/, "message type codes, comma-separated (for example 0 or 4,5)")
    .optional()
    .openapi({ description: "Only these message types; by default every type but HLR (4) and ping (5)" }),
  account: AccountSchema.optional(),
});

export function mountStatsErrorsRoute(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/stats/errors",
      tags: ["stats"],
      summary: "Messages per err code, with what each code means",
      description: "Counts messages in rollup cells whose hour is in [from, to) (default: the last 7 days).",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { query: QuerySchema },
      responses: {
        200: { description: "One item per err code seen", content: { "application/json": { schema: ErrorStatsSchema } } },
        ...commonProblems,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const range = resolveRange(q, deps.clock());
      const types = q.type === undefined ? null : [...new Set(q.type.split(",").map(Number))];
      const counts = await countMessagesByErr(deps.db, { ...range, types, account: q.account });
      const items = counts.map(({ err, count }) => {
        const row = errorRow(err);
        return { err, count, meaning: row?.meaning ?? null, permanence: row?.permanence ?? ("other" as const), verdict_class: errVerdictClass(err) };
      });
      return c.json({ from: iso(range.from)!, to: iso(range.to)!, items }, 200);
    },
  );
}
