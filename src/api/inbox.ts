// What subscribers sent: incoming SMS, wait-call confirmations, and the opt-out list a CRM syncs its suppression
// list from.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../app.js";
import { findWaitcalls, listIncoming } from "../db/queries/events.js";
import { listOptOuts } from "../db/queries/opt-outs.js";
import { csvResponse, wantsCsv } from "../http/csv.js";
import { requireScope } from "./auth.js";
import { commonProblems, CursorSchema, decodeCursor, encodeCursor, iso, LimitSchema, RangeQuerySchema, requirePhone, resolveRange, safeText } from "./schemas.js";

const IncomingSchema = z
  .object({
    account: z.string(),
    id: z.string().nullable().openapi({ description: "SMSC's id of the incoming message" }),
    phone: z.string(),
    e164: z.string(),
    to: z.string().nullable().openapi({ description: "Your dedicated number it was sent to" }),
    text: z.string(),
    at: z.string().openapi({ description: "When it was sent (its time, else when it was received)" }),
    received_at: z.string(),
  })
  .openapi("IncomingSms");

const WaitcallSchema = z
  .object({
    phone: z.string(),
    e164: z.string(),
    called: z.boolean(),
    last_called_at: z.string().nullable(),
    calls: z.array(z.object({ account: z.string(), at: z.string(), received_at: z.string() })).openapi({ description: "Newest first, at most 100" }),
  })
  .openapi("WaitcallStatus");

const OptOutSchema = z
  .object({ phone: z.string(), e164: z.string(), opted_out_at: z.string(), word: z.string(), message: z.string(), account: z.string() })
  .openapi("OptOut");

const TimeIdCursor = z.object({ t: z.iso.datetime(), id: z.number().int().positive() });
const TimePhoneCursor = z.object({ t: z.iso.datetime(), p: z.string().max(32) });

export function mountInboxRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const phoneOrProblem = (input: string, field: string): string => requirePhone(input, deps.config.defaultCountry, { field }).phone;

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/incoming",
      tags: ["incoming"],
      summary: "Incoming SMS, newest first",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { query: RangeQuerySchema.extend({ phone: safeText(64).optional(), limit: LimitSchema, cursor: CursorSchema }) },
      responses: {
        200: { description: "A page of incoming SMS", content: { "application/json": { schema: z.object({ items: z.array(IncomingSchema), next_cursor: z.string().nullable() }).openapi("IncomingSmsList") } } },
        ...commonProblems,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const range = resolveRange(q, deps.clock());
      const after = q.cursor ? decodeCursor(q.cursor, TimeIdCursor) : undefined;
      const rows = await listIncoming(deps.db, {
        ...range,
        phone: q.phone === undefined ? undefined : phoneOrProblem(q.phone, "phone"),
        after: after ? { eventAt: new Date(after.t), id: after.id } : undefined,
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return c.json(
        {
          items: page.map((m) => ({ account: m.account, id: m.smscId, phone: m.phone, e164: `+${m.phone}`, to: m.to, text: m.text, at: iso(m.eventAt)!, received_at: iso(m.receivedAt)! })),
          next_cursor: rows.length > q.limit && last ? encodeCursor({ t: last.eventAt.toISOString(), id: last.id }) : null,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/waitcall/{phone}",
      tags: ["incoming"],
      summary: "Whether a number has called to confirm (SMSC's wait-call), and when",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: {
        params: z.object({ phone: safeText(64) }),
        query: z.object({ since: z.iso.datetime({ offset: true }).optional().openapi({ description: "Only calls at or after this time" }) }),
      },
      responses: { 200: { description: "The number's confirmation calls", content: { "application/json": { schema: WaitcallSchema } } }, ...commonProblems },
    }),
    async (c) => {
      const phone = phoneOrProblem(c.req.valid("param").phone, "phone");
      const { since } = c.req.valid("query");
      const calls = await findWaitcalls(deps.db, phone, since ? new Date(since) : null, 100);
      return c.json(
        {
          phone,
          e164: `+${phone}`,
          called: calls.length > 0,
          last_called_at: iso(calls[0]?.eventAt ?? null),
          calls: calls.map((w) => ({ account: w.account, at: iso(w.eventAt)!, received_at: iso(w.receivedAt)! })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/opt-outs",
      tags: ["incoming"],
      summary: "Opted-out numbers, newest first; JSON, or CSV with Accept: text/csv",
      description: "A CRM syncs its suppression list from here. CSV answers carry the next page's cursor in `X-Next-Cursor`.",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { query: z.object({ limit: LimitSchema, cursor: CursorSchema }) },
      responses: {
        200: {
          description: "A page of opted-out numbers",
          content: {
            "application/json": { schema: z.object({ items: z.array(OptOutSchema), next_cursor: z.string().nullable() }).openapi("OptOutList") },
            "text/csv": { schema: z.string() },
          },
        },
        ...commonProblems,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const after = q.cursor ? decodeCursor(q.cursor, TimePhoneCursor) : undefined;
      const rows = await listOptOuts(deps.db, { after: after ? { eventAt: new Date(after.t), phone: after.p } : undefined, limit: q.limit + 1 });
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      const next = rows.length > q.limit && last ? encodeCursor({ t: last.eventAt.toISOString(), p: last.phone }) : null;
      const items = page.map((o) => ({ phone: o.phone, e164: `+${o.phone}`, opted_out_at: iso(o.eventAt)!, word: o.word, message: o.message, account: o.account }));
      if (wantsCsv(c)) return csvResponse(["phone", "e164", "opted_out_at", "word", "message", "account"], items, next ? { "X-Next-Cursor": next } : {}) as never;
      return c.json({ items, next_cursor: next }, 200);
    },
  );
}
