// Number verdicts for CRM systems: "can I text this number, and on which operator?", with the evidence behind the
// answer. GET /v1/numbers/{phone}, POST /v1/numbers/lookup (up to 10,000 at once), GET /v1/numbers/{phone}/timeline.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../app.js";
import { requireScope } from "./auth.js";
import { errorMeaning } from "../domain/errors.js";
import { messageTypeName } from "../domain/message-types.js";
import { normalizePhone } from "../domain/phone.js";
import { statusMeaning } from "../domain/statuses.js";
import {
  EVIDENCE_KINDS,
  EVIDENCE_LISTED,
  maskImsi,
  parseMaxAge,
  VERDICTS,
  type NumberVerdict,
} from "../domain/verdict.js";
import { findNumberVerdicts } from "../db/queries/verdicts.js";
import { listTimeline, type TimelineRow } from "../db/queries/timeline.js";
import { commonProblems, CursorSchema, decodeCursor, encodeCursor, iso, LimitSchema, problem, TimestampSchema, DefaultCountrySchema, MaxAgeSchema, requirePhone } from "./schemas.js";

export const MAX_LOOKUP_NUMBERS = 10_000;

// ---- schemas ------------------------------------------------------------------------------------------------------

const VerdictEnum = z.enum(VERDICTS).openapi({
  description:
    "`valid_reachable`: the newest deciding answer says the number works (a delivery, or an HLR/ping answer with err 0); " +
    "`valid_absent`: it exists but was unreachable (err 6, 220; temporary); `invalid`: it does not exist (err 1, 249, " +
    "status 22, or the numbering plan rejects it); `barred_or_no_sms`: it cannot take SMS (err 11, 13, 21); " +
    "`unknown`: nothing fresh decides.",
});

const EvidenceSchema = z.object({
  kind: z.enum(EVIDENCE_KINDS).openapi({ description: "`hlr`: an HLR answer; `ping`: a ping (type 5) result; `delivery`: a message's final status" }),
  at: z.string().openapi({ description: "When SMSC reported it (RFC 3339 UTC)" }),
  status: z.number().int(),
  err: z.number().int().nullable(),
  meaning: z.string().openapi({ description: "What the status or err code means" }),
  verdict: VerdictEnum.exclude(["unknown"]).openapi({ description: "The verdict this answer points to" }),
});

const NumberVerdictSchema = z
  .object({
    phone: z.string().openapi({ description: "E.164 digits", example: "79161234567" }),
    e164: z.string().openapi({ example: "+79161234567" }),
    verdict: VerdictEnum,
    reason: z.string().openapi({
      description:
        "The rule that decided: `delivered`, `hlr_ok`, `ping_ok`, `<kind>_err_<n>` (e.g. `hlr_err_1`), `<kind>_status_<n>` " +
        "(e.g. `delivery_status_22`); or, when no answer decided: `no_evidence`, `only_neutral_evidence`, `evidence_too_old`, " +
        "`not_in_numbering_plan`",
      example: "hlr_err_1",
    }),
    recheck: z.boolean().openapi({ description: "Worth checking again (an HLR request): true for `unknown` and `valid_absent`" }),
    opted_out: z.boolean().openapi({ description: "The subscriber asked not to be sent messages" }),
    country: z.object({
      iso: z.string().nullable().openapi({ description: "ISO 3166-1 alpha-2 of the number's range", example: "RU" }),
      name: z.string().nullable().openapi({ example: "Russia" }),
    }),
    operator: z.object({
      id: z.string().nullable().openapi({ description: "`mcc-mnc`", example: "250-01" }),
      mcc: z.string().nullable(),
      mnc: z.string().nullable(),
      name: z.string().nullable().openapi({ description: "From the HLR's `net`, else from the mcc/mnc dataset", example: "MTS" }),
    }),
    roaming: z.object({
      active: z.boolean().nullable().openapi({ description: "From the latest HLR answer; null when it did not say" }),
      country: z.string().nullable(),
      network: z.string().nullable(),
    }),
    msc: z.string().nullable(),
    imsi_masked: z.string().nullable().openapi({ description: "Only the IMSI's MCC+MNC prefix", example: "25001**********" }),
    last_hlr_at: z.string().nullable(),
    delivered_count: z.number().int(),
    failed_count: z.number().int(),
    last_delivered_at: z.string().nullable(),
    evidence: z.array(EvidenceSchema).openapi({
      description: `The HLR answers and message outcomes that decide (fresh enough for max_age), newest first; the ${EVIDENCE_LISTED} newest. Neutral answers are left out; the timeline lists everything.`,
    }),
  })
  .openapi("NumberVerdict");

const LookupItemSchema = z
  .union([
    NumberVerdictSchema.extend({ input: z.string().openapi({ description: "The number as given" }) }),
    z.object({ input: z.string(), errors: z.array(z.object({ field: z.string(), message: z.string() })) }),
  ])
  .openapi("NumberLookupItem");

const LookupResultSchema = z.object({ items: z.array(LookupItemSchema) }).openapi("NumberLookupResult");

const LookupBodySchema = z
  .object({
    numbers: z
      .array(z.string())
      .max(MAX_LOOKUP_NUMBERS, `at most ${MAX_LOOKUP_NUMBERS} numbers per request`)
      .openapi({ example: ["+7 916 123-45-67", "89161234567"] }),
  })
  .openapi("NumberLookupRequest");

const VerdictQuerySchema = z.object({
  default_country: DefaultCountrySchema.optional(),
  max_age: MaxAgeSchema.optional().openapi({ description: "Evidence older than this does not count; default: all evidence counts" }),
});

const PhoneParamSchema = z.object({
  phone: z.string().openapi({
    param: { name: "phone", in: "path" },
    description: "The number as people write it, URL-encoded: +7 916 123-45-67, 89161234567, 79161234567",
    example: "+79161234567",
  }),
});

const timelineItem = <K extends string, T extends z.ZodRawShape>(kind: K, shape: T) =>
  z.object({ kind: z.literal(kind), at: z.string(), account: z.string(), ...shape });

const TimelineItemSchema = z
  .discriminatedUnion("kind", [
    timelineItem("message", {
      smsc_id: z.string(),
      type: z.number().int().nullable(),
      type_name: z.string().nullable(),
      status: z.number().int().nullable().openapi({ description: "Its current status" }),
      err: z.number().int().nullable(),
      registered: z.boolean(),
      sender: z.string().nullable(),
      campaign: z.string().nullable(),
    }).openapi({ description: "A message: `at` is its registered send time, else when it was first seen" }),
    timelineItem("status", {
      smsc_id: z.string(),
      type: z.number().int().nullable(),
      status: z.number().int(),
      err: z.number().int(),
      meaning: z.string().nullable(),
      err_meaning: z.string().nullable(),
    }).openapi({ description: "A status change of a message" }),
    timelineItem("hlr", {
      smsc_id: z.string(),
      status: z.number().int(),
      err: z.number().int(),
      err_meaning: z.string().nullable(),
      mcc: z.string().nullable(),
      mnc: z.string().nullable(),
      country: z.string().nullable(),
      network: z.string().nullable(),
      roaming: z.boolean().nullable(),
      roaming_country: z.string().nullable(),
      roaming_network: z.string().nullable(),
      msc: z.string().nullable(),
      imsi_masked: z.string().nullable(),
    }).openapi({ description: "An HLR answer" }),
    timelineItem("ivr", { smsc_id: z.string().nullable(), menu_path: z.string().nullable(), seconds: z.number().int().nullable() }).openapi({
      description: "A voice-menu event",
    }),
    timelineItem("incoming", { smsc_id: z.string().nullable(), to: z.string().nullable(), text: z.string() }).openapi({
      description: "An SMS the number sent to us",
    }),
    timelineItem("waitcall", {}).openapi({ description: "The number called to confirm itself" }),
  ])
  .openapi("TimelineItem");

const TimelineSchema = z.object({ items: z.array(TimelineItemSchema), next_cursor: z.string().nullable() }).openapi("Timeline");

const TimelineQuerySchema = z.object({ default_country: VerdictQuerySchema.shape.default_country, limit: LimitSchema, cursor: CursorSchema });

const TimelineCursorSchema = z.object({ at: TimestampSchema, rank: z.number().int().min(0).max(9), id: z.number().int() });

// ---- mapping ------------------------------------------------------------------------------------------------------

type NumberVerdictJson = z.infer<typeof NumberVerdictSchema>;

function toJson(v: NumberVerdict): NumberVerdictJson {
  return {
    phone: v.phone,
    e164: v.e164,
    verdict: v.verdict,
    reason: v.reason,
    recheck: v.recheck,
    opted_out: v.optedOut,
    country: v.country,
    operator: v.operator,
    roaming: v.roaming,
    msc: v.msc,
    imsi_masked: v.imsiMasked,
    last_hlr_at: iso(v.lastHlrAt),
    delivered_count: v.deliveredCount,
    failed_count: v.failedCount,
    last_delivered_at: iso(v.lastDeliveredAt),
    evidence: v.evidence.map((e) => ({ kind: e.kind, at: iso(e.at)!, status: e.status, err: e.err, meaning: e.meaning, verdict: e.verdict })),
  };
}

function timelineJson(r: TimelineRow): z.infer<typeof TimelineItemSchema> {
  const base = { at: iso(r.at)!, account: r.account };
  switch (r.kind) {
    case "message":
      return {
        kind: "message",
        ...base,
        smsc_id: r.smscId,
        type: r.type,
        type_name: r.type === null ? null : messageTypeName(r.type),
        status: r.status,
        err: r.err,
        registered: r.registered,
        sender: r.sender,
        campaign: r.campaign,
      };
    case "status":
      return {
        kind: "status",
        ...base,
        smsc_id: r.smscId,
        type: r.type,
        status: r.status,
        err: r.err,
        meaning: statusMeaning(r.status),
        err_meaning: errorMeaning(r.err),
      };
    case "hlr":
      return {
        kind: "hlr",
        ...base,
        smsc_id: r.smscId,
        status: r.status,
        err: r.err,
        err_meaning: errorMeaning(r.err),
        mcc: r.mcc,
        mnc: r.mnc,
        country: r.country,
        network: r.network,
        roaming: r.roaming,
        roaming_country: r.roamingCountry,
        roaming_network: r.roamingNetwork,
        msc: r.msc,
        imsi_masked: maskImsi(r.imsi, r.mcc, r.mnc),
      };
    case "ivr":
      return { kind: "ivr", ...base, smsc_id: r.smscId, menu_path: r.menuPath, seconds: r.seconds };
    case "incoming":
      return { kind: "incoming", ...base, smsc_id: r.smscId, to: r.to, text: r.text };
    case "waitcall":
      return { kind: "waitcall", ...base };
  }
}


// ---- routes -------------------------------------------------------------------------------------------------------

export function mountNumberRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const options = (q: { default_country?: string | undefined; max_age?: string | undefined }) => ({
    defaultCountry: (q.default_country ?? deps.config.defaultCountry).toUpperCase(),
    maxAgeMs: q.max_age === undefined ? null : parseMaxAge(q.max_age),
    now: deps.clock(),
  });

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/numbers/lookup",
      tags: ["numbers"],
      summary: "Verdicts for many numbers at once",
      description: `Up to ${MAX_LOOKUP_NUMBERS} numbers; the answer's items are in the order given, each a verdict or \`{input, errors}\`.`,
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: {
        query: VerdictQuerySchema,
        body: { required: true, content: { "application/json": { schema: LookupBodySchema } } },
      },
      responses: {
        200: { description: "One item per number given, in order", content: { "application/json": { schema: LookupResultSchema } } },
        ...commonProblems,
        413: problem("The body is larger than API_BODY_LIMIT"),
        415: problem("The body is not application/json"),
      },
    }),
    async (c) => {
      const o = options(c.req.valid("query"));
      const inputs = c.req.valid("json").numbers;
      const parsed = inputs.map((input, i) => ({ input, i, n: normalizePhone(input, o.defaultCountry) }));
      const valid = parsed.flatMap((p) => (p.n.ok ? [p.n.value] : []));
      const verdicts = await findNumberVerdicts(deps.db, valid, o);
      let next = 0;
      const items = parsed.map((p) =>
        p.n.ok ? { input: p.input, ...toJson(verdicts[next++]!) } : { input: p.input, errors: [{ field: `numbers.${p.i}`, message: p.n.error.message }] },
      );
      return c.json({ items }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/numbers/{phone}",
      tags: ["numbers"],
      summary: "Can I text this number, and on which operator?",
      description:
        "The verdict from the newest deciding HLR answer or message outcome, with the evidence behind it. A number we know " +
        "nothing about is 200 with verdict `unknown`; a number the numbering plan rejects is 200 with verdict `invalid`.",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { params: PhoneParamSchema, query: VerdictQuerySchema },
      responses: {
        200: { description: "The number's verdict", content: { "application/json": { schema: NumberVerdictSchema } } },
        ...commonProblems,
        422: problem("The input cannot be a phone number (no digits, letters, too short or too long)"),
      },
    }),
    async (c) => {
      const o = options(c.req.valid("query"));
      const number = requirePhone(c.req.valid("param").phone, o.defaultCountry, { status: 422 });
      const [verdict] = await findNumberVerdicts(deps.db, [number], o);
      return c.json(toJson(verdict!), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/numbers/{phone}/timeline",
      tags: ["numbers"],
      summary: "Everything that happened to a number, newest first",
      description: "Messages, status changes, HLR answers, IVR events, incoming SMS and wait-call events. Each item is `{kind, at, ...details}`.",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { params: PhoneParamSchema, query: TimelineQuerySchema },
      responses: {
        200: { description: "A page of the timeline", content: { "application/json": { schema: TimelineSchema } } },
        ...commonProblems,
        422: problem("The input cannot be a phone number"),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const number = requirePhone(c.req.valid("param").phone, (q.default_country ?? deps.config.defaultCountry).toUpperCase(), { status: 422 });
      const cursor = q.cursor ? decodeCursor(q.cursor, TimelineCursorSchema) : null;
      const rows = await listTimeline(deps.db, number.phone, cursor, q.limit + 1);
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      const next = rows.length > q.limit && last ? encodeCursor(last.cursor) : null;
      return c.json({ items: page.map(timelineJson), next_cursor: next }, 200);
    },
  );
}
