// One error shape (RFC 9457 problem+json), written by one function. Routes throw ProblemError; the app's error
// handler turns it, and anything unexpected, into application/problem+json. Never a stack trace.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export type FieldError = { field: string; message: string };

export class ProblemError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly title: string,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; type?: string; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = "ProblemError";
  }

  static validation(errors: FieldError[]): ProblemError {
    const detail = errors.map((e) => `${e.field}: ${e.message}`).join("; ");
    return new ProblemError(400, "Invalid request", detail || "the request is not valid", { errors });
  }
}

const TYPES: Partial<Record<number, string>> = {
  400: "validation-error",
  401: "unauthorized",
  403: "forbidden",
  404: "not-found",
  405: "method-not-allowed",
  413: "payload-too-large",
  415: "unsupported-media-type",
  422: "unprocessable",
  429: "rate-limited",
  500: "internal-error",
  503: "unavailable",
};

export const PROBLEM_TYPE_BASE = "https://smsc-hub.dev/problems/";

export function problemResponse(c: Context, p: ProblemError): Response {
  const body = {
    type: p.extra.type ?? `${PROBLEM_TYPE_BASE}${TYPES[p.status] ?? "error"}`,
    title: p.title,
    status: p.status,
    detail: p.detail,
    instance: new URL(c.req.url).pathname,
    request_id: (c.get("requestId" as never) as string | undefined) ?? null,
    ...(p.extra.errors ? { errors: p.extra.errors } : {}),
  };
  return new Response(JSON.stringify(body), {
    status: p.status,
    headers: { "content-type": "application/problem+json", ...(p.extra.headers ?? {}) },
  });
}

type Issue = { path: readonly PropertyKey[]; message: string; code?: string; expected?: unknown; received?: unknown };

/** zod issues to `{field, message}` items. */
export function fieldErrors(issues: readonly Issue[]): FieldError[] {
  return issues.map((i) => ({ field: i.path.map(String).join(".") || "(root)", message: messageOf(i) }));
}

/**
 * zod's own words, except where they speak of its internals: a query value that is not a finite number is "received
 * NaN" or "Infinity" to zod. A schema's own message is kept.
 */
function messageOf(i: Issue): string {
  const notFinite = i.received === "NaN" || i.received === "Infinity" || i.received === "-Infinity";
  if (i.code === "invalid_type" && i.expected === "number" && notFinite && i.message.startsWith("Invalid input")) return "must be a number";
  return i.message;
}
