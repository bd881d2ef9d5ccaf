// `npm run bench -- hygiene [--scale 1000000]`: a hygiene report of a `--scale`-row list through the HTTP route of
// the built service (a process: `npm run build` first), end to end (upload, classification, the result CSV
// downloaded), beside the plain-Postgres path for the same work in the same run: COPY the file into a temporary
// table, join it to what the database knows, COPY the result out. Both run against one database that knows `--scale`
// numbers (numbers, HLR answers and opt-outs inserted in bulk). The service's peak memory (VmHWM) is measured in a
// fresh process at 100,000 rows and at `--scale` rows: the two must not differ by more than 64 MB.
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import postgres from "postgres";
import { createDb } from "../src/db/client.js";
import { migrate } from "../src/db/migrate.js";
import { createServerDatabase } from "../test/helpers/db.js";
import { ENTRY } from "../test/helpers/server-process.js";
import { rows, scale, startProcess, stopProcess } from "./support.js";

const KEY = "bench-hygiene-key-0123456789abcdef";
const MB = 1024 * 1024;

/** The i-th known number: valid Russian mobile numbers. */
const phoneOf = (i: number) => `79${String(i).padStart(9, "0")}`;

/** How a list writes the i-th number: the forms people use. */
function written(i: number): string {
  const p = phoneOf(i);
  switch (i % 4) {
    case 0:
      return p;
    case 1:
      return `+7 ${p.slice(1, 4)} ${p.slice(4, 7)}-${p.slice(7, 9)}-${p.slice(9)}`;
    case 2:
      return `8 (${p.slice(1, 4)}) ${p.slice(4, 7)}-${p.slice(7)}`;
    default:
      return `+${p}`;
  }
}

/** A `rows`-row list: name, phone, city; every 50th row repeats an earlier number, every 1000th is not a number. */
async function writeList(file: string, rows: number): Promise<number> {
  const out = fs.createWriteStream(file);
  out.write("name,phone,city\n");
  let chunk = "";
  for (let i = 0; i < rows; i++) {
    const phone = i % 1000 === 999 ? "n/a" : written(i % 50 === 49 ? i - 17 : i);
    chunk += `"Client ${i}, Ltd",${phone},City ${i % 100}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
      chunk = "";
    }
  }
  out.end(chunk);
  await new Promise<void>((r) => out.once("finish", () => r()));
  return fs.statSync(file).size;
}

/** A database that knows `n` numbers: a numbers row and an HLR answer each (70% ok, 10% each err 1, 6, 13), 1% opted out. */
async function seed(url: string, n: number): Promise<void> {
  const db = await createDb({ databaseUrl: url, pgliteDir: "", poolSize: 1 });
  await migrate(db);
  const err = `CASE WHEN i % 10 < 7 THEN 0 WHEN i % 10 = 7 THEN 1 WHEN i % 10 = 8 THEN 6 ELSE 13 END`;
  const mnc = `CASE i % 3 WHEN 0 THEN '01' WHEN 1 THEN '02' ELSE '99' END`;
  const net = `CASE i % 3 WHEN 0 THEN 'MTS' WHEN 1 THEN 'MegaFon' ELSE 'Beeline' END`;
  const phone = `'79' || lpad(i::text, 9, '0')`;
  for (let from = 0; from < n; from += 250_000) {
    const to = Math.min(n, from + 250_000) - 1;
    await db.query(
      `INSERT INTO numbers (phone, country_iso, mcc, mnc, network, roaming, last_hlr_at, last_hlr_status, last_hlr_err, first_seen_at, last_seen_at)
       SELECT ${phone}, 'RU', '250', ${mnc}, ${net}, false, now() - (i % 1000) * interval '1 minute', 1, ${err}, now(), now()
       FROM generate_series($1::int, $2::int) i`,
      [from, to],
    );
    await db.query(
      `INSERT INTO hlr_results (account, smsc_id, phone, status, err, mcc, mnc, network, roaming, event_at, received_at, callback_id)
       SELECT 'default', 'b' || i, ${phone}, 1, ${err}, '250', ${mnc}, ${net}, false, now() - (i % 1000) * interval '1 minute', now(), 0
       FROM generate_series($1::int, $2::int) i`,
      [from, to],
    );
    await db.query(
      `INSERT INTO opt_outs (phone, opted_out, word, message, event_at, account, callback_id, updated_at)
       SELECT ${phone}, true, 'STOP', 'STOP', now(), 'default', 0, now() FROM generate_series($1::int, $2::int) i WHERE i % 100 = 42`,
      [from, to],
    );
  }
  await db.exec("VACUUM ANALYZE numbers, hlr_results, opt_outs, messages"); // as autovacuum would after a bulk load
  await db.close();
}

/** The plain-Postgres path: COPY in, one join, COPY out; returns seconds and rows written. */
async function plainPath(url: string, input: string, output: string): Promise<{ seconds: number; rows: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const started = performance.now();
  await sql.unsafe(`CREATE TEMP TABLE upload (row_no bigint GENERATED ALWAYS AS IDENTITY, name text, phone text, city text)`);
  await pipeline(fs.createReadStream(input), await sql.unsafe(`COPY upload (name, phone, city) FROM STDIN (FORMAT csv, HEADER true)`).writable());
  const digits = `regexp_replace(u.phone, '\\D', '', 'g')`;
  const e164 = `CASE WHEN length(${digits}) = 11 AND left(${digits}, 1) = '8' THEN '7' || substr(${digits}, 2) ELSE ${digits} END`;
  const query = `
    SELECT name, phone, city, '+' || e164 AS e164, dup AS duplicate_of, verdict,
           CASE WHEN dup IS NOT NULL OR verdict IS NULL OR opted_out OR verdict IN ('invalid', 'barred_or_no_sms') THEN 'drop'
                WHEN verdict = 'unknown' THEN 'recheck' ELSE 'keep' END AS action,
           operator, country, opted_out
    FROM (
      SELECT u.row_no, u.name, u.phone, u.city, x.e164,
             nullif(min(u.row_no) OVER (PARTITION BY x.e164), u.row_no) AS dup,
             CASE WHEN x.e164 !~ '^\\d{10,15}$' THEN NULL WHEN n.phone IS NULL THEN 'unknown'
                  WHEN n.last_hlr_err = 0 THEN 'valid_reachable' WHEN n.last_hlr_err = 1 THEN 'invalid'
                  WHEN n.last_hlr_err = 6 THEN 'valid_absent' WHEN n.last_hlr_err = 13 THEN 'barred_or_no_sms' ELSE 'unknown' END AS verdict,
             n.network AS operator, n.country_iso AS country, coalesce(o.opted_out, false) AS opted_out
      FROM upload u
      CROSS JOIN LATERAL (SELECT ${e164} AS e164) x
      LEFT JOIN numbers n ON n.phone = x.e164
      LEFT JOIN opt_outs o ON o.phone = x.e164 AND o.opted_out
    ) r
    ORDER BY row_no`;
  const readable = await sql.unsafe(`COPY (${query}) TO STDOUT (FORMAT csv, HEADER true)`).readable();
  let rows = 0;
  readable.on("data", (d: Buffer) => {
    for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) rows++;
  });
  await pipeline(readable, fs.createWriteStream(output));
  const seconds = (performance.now() - started) / 1000;
  await sql.end();
  return { seconds, rows: rows - 1 };
}

/** VmHWM (peak resident set) and VmRSS of a process, in bytes (Linux). */
function memoryOf(pid: number): { peak: number; rss: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { peak: kb("VmHWM"), rss: kb("VmRSS") };
}

function startService(url: string): Promise<{ proc: ChildProcess; port: number }> {
  return startProcess([process.execPath, ENTRY], { DATABASE_URL: url, API_KEYS: KEY, API_RATE_BURST: "100000" });
}

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string; headersAt: number };

/** POSTs the file, streamed; resolves when the answer's body has ended (the upload has arrived). */
function upload(port: number, file: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(
      { host: "127.0.0.1", port, method: "POST", path: "/v1/reports/hygiene", headers: { "content-type": "text/csv", authorization: `Bearer ${KEY}` } },
      (res) => {
        const headersAt = (performance.now() - started) / 1000;
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, headersAt }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    fs.createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(req);
  });
}

async function getJson(port: number, p: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { authorization: `Bearer ${KEY}` } });
  if (res.status !== 200) throw new Error(`GET ${p}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Downloads the result CSV to a file; returns its data rows. */
function download(port: number, id: string, output: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: `/v1/reports/${id}/result`, headers: { accept: "text/csv", authorization: `Bearer ${KEY}` } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`result: ${res.statusCode}`));
        let lines = 0;
        res.on("data", (d: Buffer) => {
          for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) lines++;
        });
        pipeline(res, fs.createWriteStream(output)).then(() => resolve(lines - 1), reject);
      })
      .on("error", reject);
  });
}

type ServiceRun = { seconds: number; rows: number; peakMb: number; answered: number; uploaded: number; classified: number; downloaded: number; status: number };

/** The service path for one list, in a fresh service process. */
async function servicePath(url: string, input: string, output: string, expectedRows: number): Promise<ServiceRun> {
  const { proc, port } = await startService(url);
  try {
    const started = performance.now();
    const answer = await upload(port, input);
    const uploaded = (performance.now() - started) / 1000;
    if (answer.status !== 201 && answer.status !== 202) throw new Error(`upload: ${answer.status} ${answer.body}`);
    const id = (JSON.parse(answer.body) as { id: string }).id;
    let report = await getJson(port, `/v1/reports/${id}`);
    while (report.status === "running") {
      await new Promise((r) => setTimeout(r, 100));
      report = await getJson(port, `/v1/reports/${id}`);
    }
    if (report.status !== "done") throw new Error(`report ${report.status}: ${JSON.stringify(report.failure)}`);
    const classified = (performance.now() - started) / 1000;
    const rows = await download(port, id, output);
    const seconds = (performance.now() - started) / 1000;
    if (rows !== expectedRows) throw new Error(`the result has ${rows} rows, not ${expectedRows}`);
    const { peak } = memoryOf(proc.pid!);
    return { seconds, rows, peakMb: peak / MB, answered: answer.headersAt, uploaded, classified, downloaded: seconds, status: answer.status };
  } finally {
    await stopProcess(proc);
  }
}

/** `npm run bench -- hygiene [--scale N]`. */
export async function benchHygiene(): Promise<void> {
  const base = process.env.DATABASE_URL!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smsc-hub-bench-hygiene-"));
  const database = await createServerDatabase(base);
  try {
    const t0 = performance.now();
    await seed(database.url, scale);
    process.stderr.write(`hygiene: a database that knows ${scale.toLocaleString("en-US")} numbers in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const small = Math.min(100_000, scale);
    const sizes = small === scale ? [scale] : [small, scale];
    const peaks = new Map<number, number>();
    for (const size of sizes) {
      const input = path.join(dir, `list-${size}.csv`);
      const mb = (await writeList(input, size)) / MB;
      const plain = await plainPath(database.url, input, path.join(dir, `plain-${size}.csv`));
      if (plain.rows !== size) throw new Error(`the plain path wrote ${plain.rows} rows, not ${size}`);
      const svc = await servicePath(database.url, input, path.join(dir, `service-${size}.csv`), size);
      peaks.set(size, svc.peakMb);
      const label = size.toLocaleString("en-US");
      process.stderr.write(
        `hygiene ${label} rows (${mb.toFixed(1)} MB): service ${svc.seconds.toFixed(1)} s (answer ${svc.status} after ${svc.answered.toFixed(2)} s, ` +
          `upload ${svc.uploaded.toFixed(1)} s, done ${svc.classified.toFixed(1)} s, result ${(svc.downloaded - svc.classified).toFixed(1)} s; peak ${svc.peakMb.toFixed(0)} MB); ` +
          `plain Postgres ${plain.seconds.toFixed(1)} s\n`,
      );
      rows.push({
        scenario: `hygiene, ${label} rows`,
        measured: "rows/s end to end (upload, classify, download the CSV)",
        value: size / svc.seconds,
        baseline: size / plain.seconds,
        ratio: plain.seconds / svc.seconds,
        aim: "≥ 0.33",
        note:
          `service ${svc.seconds.toFixed(1)} s: ${svc.status} after ${svc.answered.toFixed(2)} s, upload read ${svc.uploaded.toFixed(1)} s, ` +
          `classified ${svc.classified.toFixed(1)} s, CSV downloaded ${svc.downloaded.toFixed(1)} s; plain Postgres (COPY in, join, COPY out) ${plain.seconds.toFixed(1)} s; ` +
          `list ${mb.toFixed(1)} MB; service peak RSS ${svc.peakMb.toFixed(0)} MB`,
      });
    }
    if (sizes.length === 2) {
      const [a, b] = [peaks.get(sizes[0]!)!, peaks.get(sizes[1]!)!];
      rows.push({
        scenario: "hygiene, service memory",
        measured: `peak RSS at ${sizes[1]!.toLocaleString("en-US")} rows, MB`,
        value: b,
        baseline: a,
        ratio: b / a,
        aim: "≤ baseline + 64 MB",
        note: `peak RSS ${a.toFixed(0)} MB at ${sizes[0]!.toLocaleString("en-US")} rows, ${b.toFixed(0)} MB at ${sizes[1]!.toLocaleString("en-US")} rows: ${(b - a).toFixed(0)} MB apart (${b - a <= 64 ? "within" : "OVER"} 64 MB)`,
      });
    }
  } finally {
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
