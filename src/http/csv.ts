// CSV answers for list routes: chosen by `Accept: text/csv`, written with csv-stringify.
import type { Context } from "hono";
import { stringify } from "csv-stringify/sync";

/** True when the client prefers CSV to JSON. */
export function wantsCsv(c: Context): boolean {
  const accept = (c.req.header("accept") ?? "").toLowerCase();
  return accept.includes("text/csv") && !/application\/json/.test(accept.split("text/csv")[0] ?? "");
}

type Cell = string | number | boolean | null | undefined;

/**
 * A cell a spreadsheet would read as a formula (`=…`, `@…`, or `+`/`-` not followed by a digit) is prefixed with `'`
 * (CSV injection). Phones like `+79161234567` and numbers like `-3` stay as they are.
 */
export function neutralizeCell(value: Cell): Cell {
  if (typeof value !== "string") return value;
  const first = value.charCodeAt(0); // = @ \t \r + -: the only starts a formula can have (a cheap test first)
  if (first !== 61 && first !== 64 && first !== 9 && first !== 13 && first !== 43 && first !== 45) return value;
  return /^[=@\t\r]|^[+-](?![\d.])/.test(value) ? `'${value}` : value;
}

const MUST_QUOTE: Record<string, RegExp> = {};

/**
 * One CSV line, without its line break, written by hand for pages of many thousand rows: each cell neutralized,
 * and quoted when it holds the delimiter, a quote, a line feed or a carriage return.
 */
export function csvLine(cells: readonly string[], delimiter: string): string {
  const mustQuote = (MUST_QUOTE[delimiter] ??= new RegExp(`[${delimiter.replace(/[\\\]^-]/g, "\\$&")}"\r\n]`));
  let line = "";
  for (let i = 0; i < cells.length; i++) {
    let v = neutralizeCell(cells[i] ?? "") as string;
    if (mustQuote.test(v)) v = `"${v.replaceAll('"', '""')}"`;
    line += i === 0 ? v : delimiter + v;
  }
  return line;
}

export function csvResponse(columns: readonly string[], rows: readonly Record<string, Cell>[], headers: Record<string, string> = {}): Response {
  const body = stringify(
    rows.map((r) => columns.map((col) => neutralizeCell(r[col] ?? ""))),
    { header: true, columns: [...columns], cast: { boolean: (v) => (v ? "true" : "false") } },
  );
  return new Response(body, { status: 200, headers: { "content-type": "text/csv; charset=utf-8", ...headers } });
}
