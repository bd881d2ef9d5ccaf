// GET /v1/callbacks: the raw callbacks as SMSC sent them, newest first, including what could not be used.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../app.js";
import { requireScope } from "./auth.js";
import { CALLBACK_KINDS } from "../domain/callback.js";
import { maskImsi } from "../domain/verdict.js";
import { listCallbacks, type StoredCallback } from "../db/queries/callbacks.js";
import { AccountSchema, commonProblems, CursorSchema, decodeCursor, encodeCursor, iso, LimitSchema, RangeQuerySchema, resolveRange } from "./schemas.js";

const StoredCallbackSchema = z
  .object({
    id: z.number().int(),
    account: z.string(),
    kind: z.enum(CALLBACK_KINDS),
    method: z.string(),
    route: z.string(),
    content_type: z.string().nullable(),
    source_address: z.string().nullable(),
    fields: z.record(z.string(), z.string()).openapi({ description: "Every field as received; below the admin scope `imsi` is masked to its MCC+MNC" }),
    raw_body: z.string().nullable().openapi({ description: "The body as received, base64, when its fields could not be read from it faithfully (unreadable, or it held NUL bytes). Admin scope only" }),
    raw_query: z.string().nullable().openapi({ description: "The query string as received (without the token), kept likewise. Admin scope only" }),
    received_at: z.string(),
    phone: z.string().nullable(),
    smsc_id: z.string().nullable(),
    signature: z.enum(["ok", "bad", "missing"]).nullable().openapi({ description: "Signature check (null when not checked)" }),
    error: z.string().nullable().openapi({ description: "Why the callback could not be used (null when it was)" }),
    error_detail: z.string().nullable(),
  })
  .openapi("StoredCallback");

const CallbackListSchema = z
  .object({ items: z.array(StoredCallbackSchema), next_cursor: z.string().nullable() })
  .openapi("StoredCallbackList");

const QuerySchema = RangeQuerySchema.extend({
  kind: z.enum(CALLBACK_KINDS).optional(),
  error: z
    .string()
    .regex(/^[a-z0-9_]{1,64}$/)
    .optional()
    .openapi({ description: "`true`: only unusable callbacks; `false`: only usable ones; otherwise an error code" }),
  account: AccountSchema.optional(),
  limit: LimitSchema,
  cursor: CursorSchema,
});

const CursorValueSchema = z.object({ t: z.iso.datetime(), id: z.number().int().positive() });

/**
 * A callback as an answer. Below the admin scope the IMSI is masked to its MCC+MNC and the raw body and query (which
 * may hold it) are withheld: full IMSIs are for admins only.
 */
function toJson(r: StoredCallback, full: boolean): z.infer<typeof StoredCallbackSchema> {
  const fields = full || r.fields.imsi === undefined ? r.fields : { ...r.fields, imsi: maskImsi(r.fields.imsi, r.fields.mcc ?? null, r.fields.mnc ?? null) ?? "" };
  return {
    id: r.id,
    account: r.account,
    kind: r.kind as z.infer<typeof StoredCallbackSchema>["kind"],
    method: r.method,
    route: r.route,
    content_type: r.contentType,
    source_address: r.sourceAddress,
    fields,
    raw_body: full ? r.rawBodyBase64 : null,
    raw_query: full ? r.rawQuery : null,
    received_at: iso(r.receivedAt)!,
    phone: r.phone,
    smsc_id: r.smscId,
    signature: r.signature as "ok" | "bad" | "missing" | null,
    error: r.error,
    error_detail: r.errorDetail,
  };
}

export function mountCallbackListRoute(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/callbacks",
      tags: ["callbacks"],
      summary: "Stored raw callbacks, newest first",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { query: QuerySchema },
      responses: {
        200: { description: "A page of callbacks", content: { "application/json": { schema: CallbackListSchema } } },
        ...commonProblems,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const range = resolveRange(q, deps.clock());
      const after = q.cursor ? decodeCursor(q.cursor, CursorValueSchema) : undefined;
      const rows = await listCallbacks(deps.db, {
        ...range,
        kind: q.kind,
        error: q.error === undefined ? undefined : q.error === "true" ? true : q.error === "false" ? false : q.error,
        account: q.account,
        after: after ? { receivedAt: new Date(after.t), id: after.id } : undefined,
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      const next = rows.length > q.limit && last ? encodeCursor({ t: last.receivedAt.toISOString(), id: last.id }) : null;
      const full = c.get("caller")?.scope === "admin";
      return c.json({ items: page.map((r) => toJson(r, full)), next_cursor: next }, 200);
    },
  );
}
