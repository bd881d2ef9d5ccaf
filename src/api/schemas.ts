// Schemas shared by the /v1 routes: the problem body, pagination and time ranges (design.md, Contracts).
import { z } from "@hono/zod-openapi";
import { isPhoneRegion } from "../domain/operators.js";
import { normalizePhone, type NormalizedPhone } from "../domain/phone.js";
import { MAX_AGE_PATTERN } from "../domain/verdict.js";
import { ProblemError } from "../http/problem.js";

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    request_id: z.string().nullable(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

export const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

/** The answers every keyed /v1 route can give besides its own. */
export const commonProblems = {
  400: problem("Invalid request: `errors` names each field that is wrong"),
  401: problem("Missing or wrong API key"),
  403: problem("The API key's scope does not allow this route"),
  429: problem("Too many requests from this caller (API_RATE_PER_SEC, API_RATE_BURST): wait `Retry-After` seconds"),
} as const;

/** A text parameter: no control characters (Postgres text cannot hold NUL), at most `max` characters. */
export const safeText = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\u0000-\u001f\u007f]*$/, "must not contain control characters")
    .refine((s) => s.isWellFormed(), "must be well-formed Unicode (no lone surrogates)");

/** A refinement's `when`: check only a value that passed every check before it, so one bad value is named once. */
export const onlyIfValidSoFar = (payload: { issues: readonly unknown[] }): boolean => payload.issues.length === 0;

/** An RFC 3339 time with an offset, between the years 1970 and 9999 once converted to UTC. */
export const TimestampSchema = z.iso
  .datetime({ offset: true, error: "must be an RFC 3339 time with an offset, e.g. 2026-11-01T00:00:00Z" })
  .refine(
    (v) => {
      const y = new Date(v).getUTCFullYear();
      return y >= 1970 && y <= 9999;
    },
    { message: "must be a time between the years 1970 and 9999", when: onlyIfValidSoFar },
  );

/** An account name, as CALLBACK_ACCOUNTS spells them. */
export const AccountSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, "an account name: letters, digits, _ . - (at most 64)")
  .openapi({ description: "An account name from CALLBACK_ACCOUNTS (or `default`)" });

/** `default_country`: the ISO country national forms are read in (default DEFAULT_COUNTRY). */
export const DefaultCountrySchema = z
  .string()
  .refine((v) => /^[A-Za-z]{2}$/.test(v) && isPhoneRegion(v.toUpperCase()), "a two-letter ISO country code the numbering plan knows (for example RU)")
  .openapi({ description: "ISO country for national forms (89161234567); default DEFAULT_COUNTRY", example: "RU", pattern: "^[A-Za-z]{2}$" });

/** `max_age`: `<n>h`, `<n>d` or `<n>w`; evidence older than that does not count. */
export const MaxAgeSchema = z
  .string()
  .regex(MAX_AGE_PATTERN, "`<n>h`, `<n>d` or `<n>w`, n ≥ 1 (for example 30d)")
  .openapi({ description: "Evidence older than this does not count; default: all evidence counts", example: "30d" });

/**
 * A phone from the request, normalised, or the problem that says why it is none: 400 naming `field` for a filter or
 * body field, 422 for the number a route is about (`/v1/numbers/{phone}`).
 */
export function requirePhone(input: string, defaultCountry: string, options: { field?: string; status?: 400 | 422 } = {}): NormalizedPhone {
  const n = normalizePhone(input, defaultCountry);
  if (n.ok) return n.value;
  const field = options.field ?? "phone";
  if (options.status === 422) {
    throw new ProblemError(422, "Not a phone number", `"${input.slice(0, 64)}" ${n.error.message}`, { errors: [{ field, message: n.error.message }] });
  }
  throw ProblemError.validation([{ field, message: n.error.message }]);
}

export const LimitSchema = z.coerce
  .number()
  .int()
  .min(1)
  .max(1000)
  .default(100)
  .openapi({ description: "Page size (default 100, max 1000)" });

export const CursorSchema = z.string().optional().openapi({ description: "Opaque cursor from `next_cursor`" });

export const RangeQuerySchema = z.object({
  from: TimestampSchema.optional().openapi({ description: "Inclusive, RFC 3339; default 7 days before `to`" }),
  to: TimestampSchema.optional().openapi({ description: "Exclusive, RFC 3339; default now" }),
});

const DAY_MS = 86_400_000;

/** `from` inclusive, `to` exclusive; default the last 7 days. */
export function resolveRange(q: { from?: string | undefined; to?: string | undefined }, now: Date): { from: Date; to: Date } {
  const to = q.to ? new Date(q.to) : now;
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 7 * DAY_MS);
  if (from.getTime() > to.getTime()) throw ProblemError.validation([{ field: "from", message: "must not be after `to`" }]);
  return { from, to };
}

/** Cursors are opaque to clients: base64url of JSON. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw ProblemError.validation([{ field: "cursor", message: "not a cursor this API gave out" }]);
  }
}

/** RFC 3339 UTC. */
export const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());
