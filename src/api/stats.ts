// GET /v1/stats/delivery: delivery rates, latency and spend, grouped and filtered by hour, day, operator, country,
// status, err, type, sender, campaign and account. Read from rollups kept current by the writer.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../app.js";
import { addDecimals } from "../domain/rollup.js";
import { mergeGroups } from "../domain/stats.js";
import { hourRange, queryDeliveryCells, queryMissingReceipts, STAT_DIMENSIONS, type StatDimension, type StatFilters } from "../db/queries/stats.js";
import { csvResponse, wantsCsv } from "../http/csv.js";
import { ProblemError } from "../http/problem.js";
import { requireScope } from "./auth.js";
import { AccountSchema, commonProblems, iso, onlyIfValidSoFar, RangeQuerySchema, resolveRange, safeText, TimestampSchema } from "./schemas.js";

const FILTERS = ["hour", "day", "operator", "country", "status", "err", "type", "sender", "campaign", "account"] as const;

const QuerySchema = RangeQuerySchema.extend({
  group_by: z
    .string()
    .optional()
    .openapi({ description: `Comma-separated: ${STAT_DIMENSIONS.join(", ")}`, example: "day,operator" }),
  hour: TimestampSchema.refine((v) => Date.parse(v) % 3_600_000 === 0, { message: "the start of an hour, such as 2026-11-20T10:00:00Z", when: onlyIfValidSoFar })
    .optional()
    .openapi({ description: "Only the hour starting at this time (UTC)" }),
  day: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, "a UTC date such as 2026-11-20")
    .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), "a real date")
    .transform((v) => `${v}T00:00:00Z`)
    .optional()
    .openapi({ description: "Only this UTC day" }),
  operator: z.string().regex(/^(\d{3}-\d{2,3}|unknown)$/, "an operator id such as 250-01, or unknown").optional(),
  country: z
    .string()
    .regex(/^([A-Za-z]{2}|unknown)$/, "an ISO country code such as RU, or unknown")
    .transform((v) => (v === "unknown" ? v : v.toUpperCase()))
    .optional(),
  status: z.coerce.number().int().min(-3).max(255).optional(),
  err: z.coerce.number().int().min(0).optional(),
  type: z.coerce.number().int().min(0).max(255).optional().openapi({ description: "Message type; types 4 (HLR) and 5 (ping) are left out unless asked for here" }),
  sender: safeText(64).optional(),
  campaign: safeText(128).optional(),
  account: AccountSchema.optional(),
});

const FiguresSchema = {
  messages: z.number().int(),
  delivered: z.number().int(),
  expired: z.number().int(),
  failed_permanent: z.number().int(),
  failed_temporary: z.number().int(),
  failed_other: z.number().int(),
  pending: z.number().int(),
  missing_receipts: z.number().int().openapi({ description: "Registered messages past their validity window with no final status" }),
  delivery_rate: z.number().nullable().openapi({ description: "delivered / (messages - pending); null when that is 0" }),
  latency_s: z
    .object({ p50: z.number().nullable(), p90: z.number().nullable(), p99: z.number().nullable(), from_registered: z.number().int() })
    .openapi({ description: "Sent → delivered, from a fixed-bucket histogram: each percentile is its bucket's upper edge (null past 86400 s or with no deliveries)" }),
  cost: z.string(),
};

const GroupSchema = z
  .object({
    hour: z.string().optional(),
    day: z.string().optional(),
    operator: z.string().optional(),
    country: z.string().optional(),
    status: z.number().int().nullable().optional(),
    err: z.number().int().nullable().optional(),
    type: z.number().int().nullable().optional(),
    sender: z.string().nullable().optional(),
    campaign: z.string().nullable().optional(),
    account: z.string().optional(),
    ...FiguresSchema,
  })
  .openapi("DeliveryGroup");

const DeliveryStatsSchema = z
  .object({ from: z.string(), to: z.string(), group_by: z.array(z.enum(STAT_DIMENSIONS)), groups: z.array(GroupSchema) })
  .openapi("DeliveryStats");

function parseGroupBy(value: string | undefined): StatDimension[] {
  if (value === undefined || value.trim() === "") return [];
  const dims = value.split(",").map((d) => d.trim());
  const bad = dims.filter((d) => !(STAT_DIMENSIONS as readonly string[]).includes(d));
  if (bad.length > 0) throw ProblemError.validation([{ field: "group_by", message: `unknown dimension ${bad.join(", ")}; use ${STAT_DIMENSIONS.join(", ")}` }]);
  return [...new Set(dims)] as StatDimension[];
}

export function mountStatsRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/stats/delivery",
      tags: ["stats"],
      summary: "Delivery rates, latency and spend, grouped and filtered; JSON, or CSV with Accept: text/csv",
      description:
        "A message is placed in time by its send time (registered), else its first status, and on an operator by its own mcc/mnc, " +
        "else the number's latest HLR when the message was first seen, else `unknown`. Statistics are kept per hour: the range " +
        "covers whole hours, `from` rounded down and `to` rounded up; the answer's `from` and `to` are the bounds used. A message " +
        "whose callbacks named no type is an SMS (type 0).",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { query: QuerySchema },
      responses: {
        200: {
          description: "One entry per group",
          content: { "application/json": { schema: DeliveryStatsSchema }, "text/csv": { schema: z.string() } },
        },
        ...commonProblems,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const groupBy = parseGroupBy(q.group_by);
      const now = deps.clock();
      const range = resolveRange(q, now);
      const filters: StatFilters = {};
      for (const f of FILTERS) if (q[f] !== undefined) filters[f] = q[f];
      const query = { ...range, groupBy, filters, now };
      const [cells, missing] = await Promise.all([queryDeliveryCells(deps.db, query), queryMissingReceipts(deps.db, query)]);
      const out = mergeGroups(groupBy, cells, missing, addDecimals).map((g) => ({ ...g.key, ...g.figures }));
      const used = hourRange(range.from, range.to);

      if (wantsCsv(c)) {
        const columns = [...groupBy, "messages", "delivered", "expired", "failed_permanent", "failed_temporary", "failed_other", "pending", "missing_receipts", "delivery_rate", "latency_p50_s", "latency_p90_s", "latency_p99_s", "latency_from_registered", "cost"];
        return csvResponse(
          columns,
          out.map((g) => ({ ...g, latency_p50_s: g.latency_s.p50, latency_p90_s: g.latency_s.p90, latency_p99_s: g.latency_s.p99, latency_from_registered: g.latency_s.from_registered, latency_s: null })),
        ) as never;
      }
      return c.json({ from: iso(used.from)!, to: iso(used.to)!, group_by: groupBy, groups: out as z.infer<typeof GroupSchema>[] }, 200);
    },
  );
}
