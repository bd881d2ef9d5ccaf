// Number-list hygiene reports: upload a list, get each number classified (verdict, operator, opt-out, duplicates)
// and an action (keep, drop, recheck). POST /v1/reports/hygiene; GET /v1/reports/{id} (status, progress, summary);
// GET /v1/reports/{id}/result (CSV or JSON); GET /v1/reports/{id}/recheck.txt; GET /v1/reports/{id}/diff.
// Uploads and results are streamed: nothing holds a whole list in memory.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../app.js";
import { ACTIONS, multipartBoundary, parseFailure, progressOf, RESULT_COLUMNS, type Summary } from "../domain/hygiene.js";
import { countryName } from "../domain/operators.js";
import { VERDICTS } from "../domain/verdict.js";
import type { StoredHygieneReport } from "../db/queries/hygiene.js";
import { findHygieneReport } from "../db/queries/hygiene.js";
import { wantsCsv } from "../http/csv.js";
import { errorFields } from "../http/logger.js";
import { PROBLEM_TYPE_BASE, ProblemError } from "../http/problem.js";
import {
  HYGIENE_ANSWER_ROWS,
  HygieneInputError,
  HygieneJobs,
  recheckLines,
  reportChanges,
  reportInput,
  reportSummary,
  resultCsv,
  resultJson,
  startHygieneReport,
  type HygieneUpload,
} from "../services/hygiene.js";
import { requireScope, type Caller } from "./auth.js";
import { commonProblems, iso, problem, safeText, DefaultCountrySchema, MaxAgeSchema } from "./schemas.js";

// ---- schemas ------------------------------------------------------------------------------------------------------

const VerdictEnum = z.enum(VERDICTS);
const ActionEnum = z.enum(ACTIONS).openapi({
  description:
    "`drop`: not a phone number, a duplicate after the first, `invalid`, `barred_or_no_sms` or opted out; `recheck`: `unknown` " +
    "(no fresh evidence within max_age); `keep`: otherwise",
});

const count = z.number().int();

const SummarySchema = z
  .object({
    rows: count.openapi({ description: "Data rows (a header row and blank lines are not rows)" }),
    numbers: count.openapi({ description: "Rows with a phone number (rows - malformed)" }),
    unique_numbers: count.openapi({ description: "Distinct phone numbers (numbers - duplicates)" }),
    duplicates: count.openapi({ description: "Rows whose number an earlier row already has" }),
    malformed: count.openapi({ description: "Rows that are not a phone number (their `phone_error` says why)" }),
    opted_out: count.openapi({ description: "Rows whose number opted out" }),
    by_verdict: z.object(Object.fromEntries(VERDICTS.map((v) => [v, count])) as Record<(typeof VERDICTS)[number], typeof count>).openapi({
      description: "Rows per verdict (malformed rows have none)",
    }),
    by_action: z.object(Object.fromEntries(ACTIONS.map((a) => [a, count])) as Record<(typeof ACTIONS)[number], typeof count>).openapi({
      description: "Rows per action",
    }),
    by_operator: z
      .array(z.object({ operator: z.string().nullable().openapi({ description: "The operator's name (else its mcc-mnc); null: not known" }), rows: count }))
      .openapi({ description: "Rows with a number per operator, most first" }),
    by_country: z
      .array(z.object({ country: z.string().nullable().openapi({ description: "ISO 3166-1 alpha-2; null: not known" }), name: z.string().nullable(), rows: count }))
      .openapi({ description: "Rows with a number per country, most first" }),
  })
  .openapi("HygieneSummary");

const ReportSchema = z
  .object({
    id: z.string().openapi({ example: "rep_4f1c2a9e0b7d3c5a8e61" }),
    status: z.enum(["running", "done", "failed"]),
    failure: z
      .object({ code: z.string().openapi({ example: "too_many_rows" }), message: z.string() })
      .nullable()
      .openapi({ description: "Why the report failed" }),
    created_at: z.string(),
    updated_at: z.string(),
    finished_at: z.string().nullable(),
    expires_at: z.string().openapi({ description: "When the report and its rows are removed (REPORT_RETENTION_DAYS after it was made)" }),
    options: z.object({ column: z.string().nullable(), default_country: z.string(), max_age: z.string().nullable() }),
    input: z
      .object({
        format: z.enum(["csv", "text", "json"]),
        encoding: z.enum(["utf-8", "utf-8-bom", "windows-1251"]),
        delimiter: z.string().nullable().openapi({ description: "`,`, `;` or a tab; null: one column" }),
        header: z.boolean().openapi({ description: "The first row was a header row" }),
        phone_column: z.number().int().openapi({ description: "1-based" }),
        phone_column_name: z.string(),
        columns: z.array(z.string()).openapi({ description: "The uploaded columns, as the result names them" }),
        result_columns: z.array(z.string()).openapi({ description: "The columns the result adds (`hygiene_` before a name the upload already has)" }),
        file: z.object({ filename: z.string().nullable(), content_type: z.string().nullable() }).nullable().openapi({ description: "The multipart `file` part" }),
      })
      .nullable(),
    progress: z.object({
      rows_done: count,
      total_rows: count.nullable().openapi({ description: "Known once the whole list has arrived" }),
      rows_per_second: z.number().nullable(),
      seconds_left: z.number().int().nullable().openapi({ description: "At the rate so far; null while the total is not known" }),
    }),
    summary: SummarySchema.nullable().openapi({ description: "Once the report is done" }),
    links: z.object({ self: z.string(), result: z.string(), recheck: z.string() }),
  })
  .openapi("HygieneReport");

const ResultRowSchema = z
  .object({
    row: count.openapi({ description: "1-based data-row number" }),
    cells: z.array(z.string()).openapi({ description: "The uploaded cells, as they were" }),
    e164: z.string().nullable(),
    phone_error: z.string().nullable().openapi({ description: "Why the row is not a phone number (`code: message`)" }),
    duplicate_of: count.nullable().openapi({ description: "The row number of the first row with the same number" }),
    verdict: VerdictEnum.nullable(),
    reason: z.string().nullable(),
    evidence_at: z.string().nullable().openapi({ description: "When the deciding answer was reported" }),
    operator: z.string().nullable(),
    country: z.string().nullable(),
    roaming: z.boolean().nullable(),
    opted_out: z.boolean().nullable(),
    action: ActionEnum,
  })
  .openapi("HygieneResultRow");

const ResultSchema = z
  .object({
    report_id: z.string(),
    columns: z.array(z.string()).openapi({ description: "The names of `cells`" }),
    items: z.array(ResultRowSchema).openapi({ description: "Every row, in input order" }),
  })
  .openapi("HygieneResult");

const ChangeSchema = z
  .object({
    e164: z.string(),
    old_verdict: VerdictEnum.nullable(),
    new_verdict: VerdictEnum.nullable(),
    old_action: ActionEnum.nullable(),
    new_action: ActionEnum.nullable(),
  })
  .openapi("HygieneChange");

const DiffSchema = z
  .object({ report_id: z.string(), against: z.string(), items: z.array(ChangeSchema).openapi({ description: "In the order of the report's rows" }) })
  .openapi("HygieneDiff");

const IdParamSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a report id").openapi({ param: { name: "id", in: "path" }, example: "rep_4f1c2a9e0b7d3c5a8e61" }),
});

const UploadQuerySchema = z.object({
  column: safeText(200)
    .min(1)
    .optional()
    .openapi({ description: "The phone column: its header (any case) or its 1-based number; default: found by header, else by content" }),
  default_country: DefaultCountrySchema.optional(),
  max_age: MaxAgeSchema.optional().openapi({ description: "Evidence older than this does not count (such numbers are `unknown`: recheck); default: all evidence counts" }),
});

const ResultQuerySchema = z.object({
  excel: z.enum(["0", "1", "true", "false"]).optional().openapi({ description: "1: CSV for Excel (UTF-8 with BOM, `;` delimiter), whatever Accept says" }),
});

const RecheckQuerySchema = z.object({
  batch_size: z.coerce.number().int().min(1).max(10_000).default(100).openapi({ description: "Numbers per line (default 100)" }),
});

const DiffQuerySchema = z.object({
  against: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a report id").openapi({ description: "The earlier report: its verdicts and actions are the old ones" }),
});

const CSV_TYPES = new Set(["text/csv", "application/csv", "text/comma-separated-values", "text/tab-separated-values", "application/vnd.ms-excel", "application/octet-stream"]);

// ---- mapping ------------------------------------------------------------------------------------------------------

type ReportJson = z.infer<typeof ReportSchema>;

function summaryJson(s: Summary): z.infer<typeof SummarySchema> {
  return {
    rows: s.rows,
    numbers: s.numbers,
    unique_numbers: s.uniqueNumbers,
    duplicates: s.duplicates,
    malformed: s.malformed,
    opted_out: s.optedOut,
    by_verdict: s.byVerdict,
    by_action: s.byAction,
    by_operator: s.byOperator,
    by_country: s.byCountry.map((c) => ({ country: c.country, name: countryName(c.country), rows: c.rows })),
  };
}

export function reportJson(r: StoredHygieneReport, now: Date): ReportJson {
  const input = reportInput(r);
  const summary = reportSummary(r);
  const options = r.options as { column: string | null; defaultCountry: string; maxAge: string | null };
  const p = progressOf({
    rowsDone: r.rowsDone,
    totalRows: r.totalRows,
    startedAt: r.createdAt,
    at: r.status === "running" ? now : (r.finishedAt ?? r.updatedAt),
    finished: r.status === "done",
  });
  const self = `/v1/reports/${r.id}`;
  return {
    id: r.id,
    status: r.status,
    failure: r.failure === null ? null : parseFailure(r.failure),
    created_at: iso(r.createdAt)!,
    updated_at: iso(r.updatedAt)!,
    finished_at: iso(r.finishedAt),
    expires_at: iso(r.expiresAt)!,
    options: { column: options.column, default_country: options.defaultCountry, max_age: options.maxAge },
    input: input && {
      format: input.format,
      encoding: input.encoding,
      delimiter: input.delimiter,
      header: input.header,
      phone_column: input.phoneColumn,
      phone_column_name: input.columns[input.phoneColumn - 1] ?? "",
      columns: input.columns,
      result_columns: input.resultColumns,
      file: input.file && { filename: input.file.filename, content_type: input.file.contentType },
    },
    progress: { rows_done: p.rowsDone, total_rows: p.totalRows, rows_per_second: p.rowsPerSecond, seconds_left: p.secondsLeft },
    summary: summary && summaryJson(summary),
    links: { self, result: `${self}/result`, recheck: `${self}/recheck.txt` },
  };
}

function inputProblem(e: HygieneInputError): ProblemError {
  return new ProblemError(e.status as 400, e.title, `${e.code}: ${e.message}`, {
    type: `${PROBLEM_TYPE_BASE}${e.code.replaceAll("_", "-")}`,
    errors: [{ field: e.field, message: e.message }],
  });
}

const encoder = new TextEncoder();

/** A response whose body is written a piece at a time, as the reader takes it. */
function streamed(pieces: AsyncGenerator<string>, headers: Record<string, string>): Response {
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await pieces.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (err) {
        controller.error(err);
      }
    },
    async cancel() {
      await pieces.return(undefined);
    },
  });
  return new Response(body, { status: 200, headers });
}

const DIFF_COLUMNS = ["e164", "old_verdict", "new_verdict", "old_action", "new_action"] as const;

async function* diffJson(deps: AppDeps, report: StoredHygieneReport, against: string): AsyncGenerator<string> {
  yield `{"report_id":${JSON.stringify(report.id)},"against":${JSON.stringify(against)},"items":[`;
  let first = true;
  for await (const page of reportChanges(deps.db, report, against)) {
    const parts = page.map((c) =>
      JSON.stringify({ e164: `+${c.phone}`, old_verdict: c.oldVerdict, new_verdict: c.newVerdict, old_action: c.oldAction, new_action: c.newAction }),
    );
    yield (first ? "" : ",") + parts.join(",");
    first = false;
  }
  yield "]}";
}

async function* diffCsv(deps: AppDeps, report: StoredHygieneReport, against: string): AsyncGenerator<string> {
  yield `${DIFF_COLUMNS.join(",")}\n`;
  for await (const page of reportChanges(deps.db, report, against)) {
    yield page.map((c) => `+${c.phone},${c.oldVerdict ?? ""},${c.newVerdict ?? ""},${c.oldAction ?? ""},${c.newAction ?? ""}\n`).join("");
  }
}

// ---- routes -------------------------------------------------------------------------------------------------------

export function mountReportRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const jobs = deps.hygieneJobs ?? new HygieneJobs();
  const hygieneDeps = {
    db: deps.db,
    clock: deps.clock,
    maxRows: deps.config.hygieneMaxRows,
    retentionDays: deps.config.reportRetentionDays,
    jobs,
    onError: (err: unknown, reportId: string) =>
      deps.logger.error({ err: { name: (err as Error)?.name, ...errorFields(err) }, report_id: reportId }, "hygiene report failed"),
  };

  /**
   * A report that exists and the caller may read (404 otherwise), and is done when `done` (409 otherwise). A report
   * is read by the key that uploaded the list and by admin keys; to any other key it does not exist.
   */
  async function reportOr404(caller: Caller, id: string, done: boolean, field = "id"): Promise<StoredHygieneReport> {
    const found = await findHygieneReport(deps.db, id);
    const report = found && (caller.scope === "admin" || (found.ownerKeyId !== null && found.ownerKeyId === caller.keyId)) ? found : null;
    if (!report) throw new ProblemError(404, "Not found", `no report ${id} this key may read (reports are kept REPORT_RETENTION_DAYS, and read by the key that uploaded the list and by admin keys)`, { errors: [{ field, message: "no such report" }] });
    if (done && report.status !== "done") {
      const why = report.status === "running" ? `is still running (GET /v1/reports/${id} shows its progress)` : `failed: ${report.failure ?? ""}`;
      throw new ProblemError(409, "Report not ready", `report ${id} ${why}`);
    }
    return report;
  }

  const conflict = problem("The report is still running, or failed");
  const notFound = problem("No such report: it never existed, it has expired, or another API key uploaded it (a report is read by that key and by admin keys)");

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/reports/hygiene",
      tags: ["reports"],
      summary: "Classify a list of numbers (keep, drop, recheck)",
      description:
        "The list is the body: `text/csv` (any layout: the phone column is found by its header, `column`, or its content; `,` `;` or tab; " +
        "a header row or none), `text/plain` (one number a line), `application/json` (an array of strings), or the `file` field of " +
        "`multipart/form-data`. UTF-8 (with or without BOM) and windows-1251 are both read. The body is streamed (not bound by " +
        `API_BODY_LIMIT; at most HYGIENE_MAX_ROWS rows; 30 minutes to arrive). Up to ${HYGIENE_ANSWER_ROWS} rows the answer is 201 with the finished ` +
        `report; a longer list is answered 202 (\`status: running\`) as soon as it passes ${HYGIENE_ANSWER_ROWS} rows: keep sending the rest, ` +
        "and follow `Location` for progress. A problem found after a 202 ends the report `failed` with the reason. A malformed row " +
        "never stops a report: it gets its own `phone_error`.",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: {
        query: UploadQuerySchema,
        body: {
          required: true,
          content: {
            "text/csv": { schema: z.string().openapi({ example: "name;phone\nAnna;+7 916 123-45-67\nBoris;89161234568\n" }) },
            "text/plain": { schema: z.string().openapi({ example: "79161234567\n+7 916 123-45-68\n" }) },
            "application/json": { schema: { type: "array", items: { type: "string" }, example: ["79161234567", "+7 916 123-45-68"] } },
            "multipart/form-data": {
              schema: { type: "object", properties: { file: { type: "string", format: "binary", description: "The list (CSV, text or JSON)" } }, required: ["file"] },
            },
          },
        },
      },
      responses: {
        201: {
          description: `The finished report (at most ${HYGIENE_ANSWER_ROWS} rows); \`Location\` is its address`,
          headers: { Location: { schema: { type: "string" }, description: "/v1/reports/{id}" } },
          content: { "application/json": { schema: ReportSchema } },
        },
        202: {
          description: `The report, running (more than ${HYGIENE_ANSWER_ROWS} rows): poll \`Location\`. The answer's body ends when the upload has arrived.`,
          headers: { Location: { schema: { type: "string" }, description: "/v1/reports/{id}" } },
          content: { "application/json": { schema: ReportSchema } },
        },
        ...commonProblems,
        408: problem("The upload did not arrive in time (`upload_timeout`)"),
        413: problem("More than HYGIENE_MAX_ROWS rows (`too_many_rows`)"),
        415: problem("A media type other than CSV, text, JSON or multipart; or an encoding other than UTF-8 and windows-1251 (`bad_encoding`)"),
        422: problem("An empty list (`empty_body`), no phone column (`no_phone_column`, `unknown_column`), bad JSON or multipart (`bad_json`, `bad_multipart`, `no_file_part`)"),
        503: problem("The database is unavailable, or the service is stopping"),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const contentType = c.req.header("content-type") ?? "";
      const media = contentType.split(";")[0]!.trim().toLowerCase();
      let kind: HygieneUpload["kind"];
      if (CSV_TYPES.has(media)) kind = "csv";
      else if (media === "text/plain") kind = "text";
      else if (media === "application/json") kind = "json";
      else if (media === "multipart/form-data") {
        const boundary = multipartBoundary(contentType);
        if (!boundary) throw inputProblem(new HygieneInputError("bad_multipart", "the multipart content type has no boundary"));
        kind = { multipart: boundary };
      } else {
        throw new ProblemError(415, "Unsupported media type", "send the list as text/csv, text/plain, application/json, or multipart/form-data with a `file` field", {
          errors: [{ field: "content-type", message: `"${media || "(none)"}" is not taken here` }],
        });
      }
      const body = c.req.raw.body;
      if (!body) throw inputProblem(new HygieneInputError("empty_body", "the body is empty: send the list"));
      const options = {
        column: q.column ?? null,
        defaultCountry: (q.default_country ?? deps.config.defaultCountry).toUpperCase(),
        maxAge: q.max_age ?? null,
      };
      let started;
      try {
        started = await startHygieneReport(hygieneDeps, { kind, body, options, ownerKeyId: c.get("caller").keyId });
      } catch (err) {
        if (err instanceof HygieneInputError) throw inputProblem(err);
        throw err;
      }
      const location = `/v1/reports/${started.report.id}`;
      const json = reportJson(started.report, deps.clock());
      if (started.state === "done") return c.json(json, 201, { Location: location });
      // Running: the answer goes out now, and its body stays open until the upload has arrived (so the connection
      // keeps reading it). The report's progress is at Location.
      const uploaded = started.uploaded;
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode(JSON.stringify(json)));
          void uploaded.finally(() => {
            try {
              controller.close();
            } catch {
              // the client went away
            }
          });
        },
      });
      return new Response(stream, { status: 202, headers: { "content-type": "application/json", Location: location } }) as never;
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/reports/{id}",
      tags: ["reports"],
      summary: "A hygiene report: status, progress and summary",
      description:
        "`status` is `running`, `done` or `failed` (with `failure`). `progress` has the rows done, the total once the whole list has " +
        "arrived, rows per second and seconds left. `summary` (once done) counts rows per verdict, action, operator and country, " +
        "plus duplicates and malformed rows.",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { params: IdParamSchema },
      responses: {
        200: { description: "The report", content: { "application/json": { schema: ReportSchema } } },
        ...commonProblems,
        404: notFound,
      },
    }),
    async (c) => c.json(reportJson(await reportOr404(c.get("caller"), c.req.valid("param").id, false), deps.clock()), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/reports/{id}/result",
      tags: ["reports"],
      summary: "Each row classified, in input order; JSON, or CSV with Accept: text/csv",
      description:
        "CSV: every uploaded column as it was, then `" + RESULT_COLUMNS.join("`, `") + "` (a name the upload already has gets the " +
        "prefix `hygiene_`). `?excel=1`: CSV for Excel (UTF-8 with BOM, `;`). JSON: `{report_id, columns, items}`, the uploaded cells in " +
        "`cells`. Streamed.",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { params: IdParamSchema, query: ResultQuerySchema },
      responses: {
        200: {
          description: "Every row",
          content: { "application/json": { schema: ResultSchema }, "text/csv": { schema: z.string() } },
        },
        ...commonProblems,
        404: notFound,
        409: conflict,
      },
    }),
    async (c) => {
      const report = await reportOr404(c.get("caller"), c.req.valid("param").id, true);
      const excelParam = c.req.valid("query").excel;
      const excel = excelParam === "1" || excelParam === "true";
      if (excel || wantsCsv(c)) {
        const name = `${report.id}${excel ? "-excel" : ""}.csv`;
        return streamed(resultCsv(deps.db, report, { excel }), {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="${name}"`,
        }) as never;
      }
      return streamed(resultJson(deps.db, report), { "content-type": "application/json" }) as never;
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/reports/{id}/recheck.txt",
      tags: ["reports"],
      summary: "The numbers to send for an HLR check, batch_size per line",
      description: "The numbers whose action is `recheck`, digits only, comma-separated, at most `batch_size` per line: ready for SMSC's `send.php?hlr=1&phones=...`.",
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { params: IdParamSchema, query: RecheckQuerySchema },
      responses: {
        200: { description: "One batch a line (empty when nothing needs a check)", content: { "text/plain": { schema: z.string().openapi({ example: "79161234567,79161234568\n" }) } } },
        ...commonProblems,
        404: notFound,
        409: conflict,
      },
    }),
    async (c) => {
      const report = await reportOr404(c.get("caller"), c.req.valid("param").id, true);
      return streamed(recheckLines(deps.db, report, { batchSize: c.req.valid("query").batch_size }), { "content-type": "text/plain; charset=utf-8" }) as never;
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/reports/{id}/diff",
      tags: ["reports"],
      summary: "The numbers whose verdict or action changed since another report; JSON, or CSV with Accept: text/csv",
      description:
        "Numbers in both reports (each report's first row of the number) whose verdict or action differs; old is `against`, new is `id`. " +
        `CSV columns: ${DIFF_COLUMNS.join(",")}.`,
      security: [{ bearer: [] }],
      middleware: [requireScope("read")] as const,
      request: { params: IdParamSchema, query: DiffQuerySchema },
      responses: {
        200: { description: "The changes, in the order of the report's rows", content: { "application/json": { schema: DiffSchema }, "text/csv": { schema: z.string() } } },
        ...commonProblems,
        404: notFound,
        409: conflict,
      },
    }),
    async (c) => {
      const report = await reportOr404(c.get("caller"), c.req.valid("param").id, true);
      const against = await reportOr404(c.get("caller"), c.req.valid("query").against, true, "against");
      if (wantsCsv(c)) return streamed(diffCsv(deps, report, against.id), { "content-type": "text/csv; charset=utf-8" }) as never;
      return streamed(diffJson(deps, report, against.id), { "content-type": "application/json" }) as never;
    },
  );
}
