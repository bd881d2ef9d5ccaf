// Messages: registration by CRM systems, lists and one message's history.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../app.js";
import { configuredAccounts } from "../config.js";
import { messageTypeName } from "../domain/message-types.js";
import { normalizePhone } from "../domain/phone.js";
import { STATUSES } from "../domain/statuses.js";
import { findIvrMenuIds } from "../db/queries/ivr.js";
import { findMessages, listMessages, statusHistory, type StoredMessage } from "../db/queries/messages.js";
import { csvResponse, wantsCsv } from "../http/csv.js";
import { fieldErrors, ProblemError } from "../http/problem.js";
import { registerMessages, type MessageRegistration } from "../ingest/register.js";
import { requireScope } from "./auth.js";
import { AccountSchema, commonProblems, CursorSchema, decodeCursor, encodeCursor, iso, LimitSchema, problem, RangeQuerySchema, resolveRange, safeText, TimestampSchema, requirePhone } from "./schemas.js";

export const MAX_REGISTRATIONS = 10_000;

const statusName = (s: number | null) => (s === null ? null : ((STATUSES as Record<string, { name: string }>)[String(s)]?.name ?? `status_${s}`));

const OperatorSchema = z.object({ id: z.string(), mcc: z.string(), mnc: z.string().nullable() }).openapi("OperatorRef");

export const MessageSchema = z
  .object({
    account: z.string(),
    id: z.string().openapi({ description: "SMSC message id" }),
    phone: z.string().openapi({ description: "E.164 digits (or an e-mail address for e-mail messages)" }),
    e164: z.string().nullable(),
    type: z.number().int().nullable(),
    type_name: z.string().nullable(),
    status: z.number().int().nullable(),
    status_name: z.string().nullable(),
    err: z.number().int().nullable(),
    final: z.boolean(),
    cost: z.string().nullable(),
    parts: z.number().int().nullable(),
    sender: z.string().nullable(),
    campaign: z.string().nullable(),
    registered: z.boolean(),
    sent_at: z.string().nullable(),
    valid_until: z.string().nullable(),
    menu_id: z.string().nullable(),
    placed_at: z.string().nullable().openapi({ description: "The time statistics place the message at: sent_at, else its first status" }),
    first_status_at: z.string().nullable(),
    last_status_at: z.string().nullable(),
    delivered_at: z.string().nullable(),
    operator: OperatorSchema.nullable(),
    country: z.string().nullable(),
  })
  .openapi("Message");

export function messageToJson(m: StoredMessage): z.infer<typeof MessageSchema> {
  const s = m.state;
  return {
    account: m.account,
    id: m.smscId,
    phone: m.phone,
    e164: /^\d+$/.test(m.phone) ? `+${m.phone}` : null,
    type: s.type,
    type_name: s.type === null ? null : messageTypeName(s.type),
    status: s.status,
    status_name: statusName(s.status),
    err: s.err,
    final: s.final,
    cost: s.cost,
    parts: s.parts,
    sender: s.sender,
    campaign: s.campaign,
    registered: s.registered,
    sent_at: iso(s.sentAt),
    valid_until: iso(s.validUntil),
    menu_id: s.menuId,
    placed_at: iso(m.placedAt),
    first_status_at: iso(s.firstStatusAt),
    last_status_at: iso(s.lastStatusAt),
    delivered_at: iso(s.deliveredAt),
    operator: s.operatorMcc === null ? null : { id: `${s.operatorMcc}-${s.operatorMnc ?? ""}`, mcc: s.operatorMcc, mnc: s.operatorMnc },
    country: s.countryIso,
  };
}

const CSV_COLUMNS = [
  "account", "id", "phone", "e164", "type", "type_name", "status", "status_name", "err", "final", "cost", "parts", "sender",
  "campaign", "registered", "sent_at", "valid_until", "menu_id", "placed_at", "first_status_at", "last_status_at",
  "delivered_at", "operator", "country",
] as const;

const RegistrationSchema = z.object({
  account: AccountSchema.optional(),
  id: safeText(64).min(1).openapi({ description: "The SMSC message id (the `id` you passed to send.php, or the one SMSC returned)" }),
  phone: safeText(64).min(1),
  sent_at: TimestampSchema,
  sender: safeText(64).min(1).optional(),
  campaign: safeText(128).min(1).optional(),
  parts: z.number().int().min(1).max(255).optional(),
  valid_until: TimestampSchema.optional().openapi({ description: "End of the validity window: a registered message still not final after it counts as a missing receipt" }),
  menu_id: safeText(64).min(1).optional().openapi({ description: "The id of a menu stored with POST /v1/ivr/menus: the call's IVR events then count in its funnel. An id no stored menu has rejects the item" }),
});

const RegisterBodySchema = z
  .object({ messages: z.array(z.unknown()).openapi({ type: "array", items: { $ref: "#/components/schemas/MessageRegistration" } }) })
  .openapi("MessageRegistrations");

const RegisterResultSchema = z
  .object({
    accepted: z.number().int(),
    rejected: z.array(z.object({ index: z.number().int(), errors: z.array(z.object({ field: z.string(), message: z.string() })) })),
  })
  .openapi("MessageRegistrationResult");

const ListQuerySchema = RangeQuerySchema.extend({
  account: AccountSchema.optional(),
  campaign: safeText(128).optional(),
  sender: safeText(64).optional(),
  status: z.coerce.number().int().min(-3).max(255).optional(),
  phone: safeText(64).optional(),
  limit: LimitSchema,
  cursor: CursorSchema,
});

const CursorValueSchema = z.object({ t: z.iso.datetime(), id: z.number().int().positive() });

const MessageDetailSchema = MessageSchema.extend({
  history: z.array(z.object({ status: z.number().int(), status_name: z.string().nullable(), err: z.number().int(), at: z.string(), received_at: z.string() })),
}).openapi("MessageDetail");

type Rejected = { index: number; errors: { field: string; message: string }[] };

/** Each item checked on its own: the good ones become registrations, the bad ones are listed with their fields. */
function validateRegistrations(
  items: readonly unknown[],
  ctx: { accounts: ReadonlySet<string>; defaultAccount: string; defaultCountry: string },
): { accepted: (MessageRegistration & { index: number })[]; rejected: Rejected[] } {
  const accepted: (MessageRegistration & { index: number })[] = [];
  const rejected: Rejected[] = [];
  items.forEach((item, index) => {
    const parsed = RegistrationSchema.safeParse(item);
    if (!parsed.success) return void rejected.push({ index, errors: fieldErrors(parsed.error.issues) });
    const r = parsed.data;
    const account = r.account ?? ctx.defaultAccount;
    if (!ctx.accounts.has(account)) return void rejected.push({ index, errors: [{ field: "account", message: `not a configured account (have: ${[...ctx.accounts].join(", ")})` }] });
    const phone = normalizePhone(r.phone, ctx.defaultCountry);
    if (!phone.ok) return void rejected.push({ index, errors: [{ field: "phone", message: phone.error.message }] });
    const sentAt = new Date(r.sent_at);
    const validUntil = r.valid_until ? new Date(r.valid_until) : null;
    if (validUntil && validUntil < sentAt) return void rejected.push({ index, errors: [{ field: "valid_until", message: "must not be before sent_at" }] });
    accepted.push({
      index,
      account,
      smscId: r.id,
      phone: phone.value.phone,
      sentAt,
      sender: r.sender ?? null,
      campaign: r.campaign ?? null,
      parts: r.parts ?? null,
      validUntil,
      menuId: r.menu_id ?? null,
      countryIso: phone.value.country,
    });
  });
  return { accepted, rejected };
}

export function mountMessageRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const { config } = deps;
  const { names: accounts, fallback: defaultAccount } = configuredAccounts(config);
  const phoneOf = (input: string) => normalizePhone(input, config.defaultCountry);

  app.openAPIRegistry.register("MessageRegistration", RegistrationSchema);

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/messages",
      tags: ["messages"],
      summary: "Register messages sent through SMSC (send time, sender, campaign, validity)",
      description:
        `Up to ${MAX_REGISTRATIONS} messages per request. Registering the same (account, id, phone) again updates it. ` +
        "A registration that arrives after the message's callbacks joins them and moves the message between statistics cells.",
      security: [{ bearer: [] }],
      middleware: [requireScope("write")] as const,
      request: { body: { required: true, content: { "application/json": { schema: RegisterBodySchema } } } },
      responses: {
        200: { description: "What was accepted, and why the rest was not", content: { "application/json": { schema: RegisterResultSchema } } },
        ...commonProblems,
        413: problem(`More than ${MAX_REGISTRATIONS} messages, or a body over API_BODY_LIMIT`),
        415: problem("The body is not JSON"),
      },
    }),
    async (c) => {
      const { messages } = c.req.valid("json");
      if (messages.length > MAX_REGISTRATIONS) {
        throw new ProblemError(413, "Too many messages", `at most ${MAX_REGISTRATIONS} messages per request, not ${messages.length}`);
      }
      const valid = validateRegistrations(messages, { accounts, defaultAccount, defaultCountry: config.defaultCountry });
      // A menu_id must name a stored menu (POST /v1/ivr/menus): a typo would leave the calls out of every funnel.
      const menus = await findIvrMenuIds(deps.db, valid.accepted.flatMap((r) => (r.menuId === null ? [] : [r.menuId])));
      const accepted: MessageRegistration[] = [];
      const rejected = [...valid.rejected];
      for (const r of valid.accepted) {
        if (r.menuId === null || menus.has(r.menuId)) accepted.push(r);
        else rejected.push({ index: r.index, errors: [{ field: "menu_id", message: `no stored menu has the id "${r.menuId}" (store it first: POST /v1/ivr/menus)` }] });
      }
      rejected.sort((a, b) => a.index - b.index);
      await registerMessages(deps.db, accepted, deps.clock());
      return c.json({ accepted: accepted.length, rejected }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/messages",
      tags: ["messages"],
      summary: "Messages placed (sent, else first seen) in a time range, newest first; JSON, or CSV with Accept: text/csv",
      description: "CSV answers carry the next page's cursor in the `X-Next-Cursor` header.",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { query: ListQuerySchema },
      responses: {
        200: {
          description: "A page of messages",
          content: {
            "application/json": { schema: z.object({ items: z.array(MessageSchema), next_cursor: z.string().nullable() }).openapi("MessageList") },
            "text/csv": { schema: z.string() },
          },
        },
        ...commonProblems,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const range = resolveRange(q, deps.clock());
      let phone: string | undefined;
      if (q.phone !== undefined) {
        phone = requirePhone(q.phone, config.defaultCountry).phone;
      }
      const after = q.cursor ? decodeCursor(q.cursor, CursorValueSchema) : undefined;
      const rows = await listMessages(deps.db, {
        ...range,
        account: q.account,
        campaign: q.campaign,
        sender: q.sender,
        status: q.status,
        phone,
        after: after ? { placedAt: new Date(after.t), rowId: after.id } : undefined,
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      const next = rows.length > q.limit && last?.placedAt ? encodeCursor({ t: last.placedAt.toISOString(), id: last.rowId }) : null;
      const items = page.map(messageToJson);
      if (wantsCsv(c)) {
        return csvResponse(
          CSV_COLUMNS,
          items.map((m) => ({ ...m, operator: m.operator?.id ?? null })),
          next ? { "X-Next-Cursor": next } : {},
        ) as never;
      }
      return c.json({ items, next_cursor: next }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/messages/{id}",
      tags: ["messages"],
      summary: "One message's state and its status history",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: {
        params: z.object({ id: safeText(64).min(1) }),
        query: z.object({ phone: safeText(64).optional(), account: AccountSchema.optional() }),
      },
      responses: {
        200: { description: "The message", content: { "application/json": { schema: MessageDetailSchema } } },
        ...commonProblems,
        404: problem("No message with this id (and phone, and account)"),
        409: problem("Several messages have this id: add `phone` (and `account`)"),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const q = c.req.valid("query");
      let phone: string | undefined;
      if (q.phone !== undefined) {
        const p = phoneOf(q.phone);
        phone = p.ok ? p.value.phone : q.phone.trim().toLowerCase();
      }
      const found = await findMessages(deps.db, { smscId: id, phone, account: q.account });
      if (found.length === 0) throw new ProblemError(404, "Not found", `no message with id ${id}${phone ? ` to ${phone}` : ""}`);
      if (found.length > 1) {
        throw new ProblemError(409, "Ambiguous message id", `${found.length} messages have id ${id}: add phone${q.account ? "" : " and account"}`);
      }
      const m = found[0]!;
      const history = await statusHistory(deps.db, m);
      return c.json(
        {
          ...messageToJson(m),
          history: history.map((h) => ({ status: h.status, status_name: statusName(h.status), err: h.err, at: iso(h.eventAt)!, received_at: iso(h.receivedAt)! })),
        },
        200,
      );
    },
  );
}
