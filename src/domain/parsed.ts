// The result of parsing untrusted input: a value, or a typed error. Expected bad data is a value, never an
// exception (see docs/style.md, "Pure domain").

export type ParseError = { code: string; message: string };

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ParseError };

/** Wraps a successfully parsed value. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** Builds a parse failure; assignable to any `Parsed<T>`. */
export function fail(code: string, message: string): { ok: false; error: ParseError } {
  return { ok: false, error: { code, message } };
}
