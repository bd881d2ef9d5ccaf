// `npm run bench`: measured figures beside a baseline taken in the same run on the same machine.
// Needs DATABASE_URL (a Postgres server; a fresh database is created and dropped). Never run by CI.
//
//   npm run bench                     all scenarios
//   npm run bench -- ingest           one scenario
//   npm run bench -- ingest --duration 10 --connections 200
import fs from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import { createDb } from "../src/db/client.js";
import { parseStatusString } from "../src/domain/status-string.js";
import { decodeFormValue } from "../src/domain/text-decode.js";
import { createServerDatabase } from "../test/helpers/db.js";
import { benchHygiene } from "./hygiene.js";
import { ENTRY, ROOT } from "../test/helpers/server-process.js";

import { args, duration, rows, selected, startProcess, stopProcess } from "./support.js";
import { benchLookup } from "./lookup.js";
import { benchStats } from "./stats.js";

/** Mixed callback bodies: 70% delivery statuses, 20% HLR results, 10% duplicates of earlier ones. */
function bodyFor(n: number, run: string): { body: string; key: string } {
  if (n > 10 && n % 10 === 0) return bodyFor(n - 7, run); // a duplicate
  const id = `${run}-${n}`;
  const phone = `7916${String(1_000_000 + (n % 5_000_000)).padStart(7, "0")}`;
  if (n % 10 < 2) {
    return {
      key: id,
      body: `id=${id}&phone=${phone}&status=1&err=0&ts=${1717585400 + n}&type=4&cost=0.30&imsi=25001${String(n).padStart(10, "0")}&msc=79160010000&mcc=250&mnc=01&cn=Russian+Federation&net=MTS&rcn=&rnet=`,
    };
  }
  return {
    key: id,
    body: `id=${id}&phone=${phone}&status=${n % 7 === 0 ? 20 : 1}&err=0&ts=${1717585400 + n}&type=0&cost=3.45&sms_cnt=1&sender_id=SHOP&mccmnc=25001`,
  };
}

async function load(port: number, connections: number, run: string, acknowledged?: Set<string>) {
  let n = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration,
    requests: [
      {
        method: "POST",
        path: "/callbacks/smsc",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        setupRequest: (req, context) => {
          const { body, key } = bodyFor(n++, run);
          (context as { key?: string }).key = key;
          return { ...req, body };
        },
        onResponse: (status, _body, context) => {
          if (status === 200) acknowledged?.add((context as { key: string }).key);
        },
      },
    ],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

async function benchIngest(): Promise<void> {
  const base = process.env.DATABASE_URL!;
  for (const connections of [200, 50]) {
    const baseline = await startProcess([process.execPath, "--import", "tsx", "bench/baseline-server.ts"], {});
    const b = await load(baseline.port, connections, `base${connections}`);
    await stopProcess(baseline.proc);

    const database = await createServerDatabase(base);
    const acknowledged = new Set<string>();
    let s: Awaited<ReturnType<typeof load>>;
    let stored: { smsc_id: string; n: number }[];
    try {
      const service = await startProcess([process.execPath, ENTRY], { DATABASE_URL: database.url });
      try {
        s = await load(service.port, connections, `svc${connections}`, acknowledged);
      } finally {
        await stopProcess(service.proc);
      }
      const db = await createDb({ databaseUrl: database.url, pgliteDir: "", poolSize: 1 });
      stored = await db.query<{ smsc_id: string; n: number }>("SELECT smsc_id, count(*)::int AS n FROM callbacks GROUP BY smsc_id");
      await db.close();
    } finally {
      await database.drop();
    }
    const storedIds = new Map(stored.map((r) => [r.smsc_id, r.n]));
    const lost = [...acknowledged].filter((k) => !storedIds.has(k)).length;
    const twice = stored.filter((r) => r.n > 1).length;

    rows.push({
      scenario: `ingest, ${connections} connections`,
      measured: "acknowledged callbacks/s",
      value: s.rps,
      baseline: b.rps,
      ratio: s.rps / b.rps,
      aim: "≥ 0.5",
      note: `p50 ${s.p50} ms, p99 ${s.p99} ms (baseline p50 ${b.p50}, p99 ${b.p99}); non-2xx ${s.non2xx}, errors ${s.errors}`,
    });
    rows.push({
      scenario: `nothing lost, ${connections} connections`,
      measured: "acknowledged keys missing / stored twice",
      value: lost + twice,
      baseline: acknowledged.size,
      ratio: lost + twice === 0 ? 1 : 0,
      aim: "0 missing, 0 twice",
      note: `${acknowledged.size} acknowledged, ${lost} missing, ${twice} stored twice`,
    });
  }
}

/** Acknowledged callbacks per second of the service on a fresh database, with extra environment. */
async function serviceIngestRate(connections: number, env: Record<string, string>, run: string): Promise<number> {
  const database = await createServerDatabase(process.env.DATABASE_URL!);
  try {
    const service = await startProcess([process.execPath, ENTRY], { DATABASE_URL: database.url, ...env });
    try {
      return (await load(service.port, connections, run)).rps;
    } finally {
      await stopProcess(service.proc);
    }
  } finally {
    await database.drop();
  }
}

async function benchRollups(): Promise<void> {
  const on = await serviceIngestRate(200, {}, "rollon");
  const off = await serviceIngestRate(200, { ROLLUP_MAINTENANCE: "false" }, "rolloff");
  rows.push({ scenario: "rollup upkeep, 200 connections", measured: "callbacks/s, rollups kept", value: on, baseline: off, ratio: on / off, aim: "≥ 0.8", note: `rollups off: ${Math.round(off)}/s` });
}

async function benchParser(): Promise<void> {
  const lines = Array.from(
    { length: 200_000 },
    (_, i) => `id:${855469 + i} stat:DELIVRD err:000 imsi:2500230${String(i).padStart(8, "0")} msc:79232510066 mcc:250 mnc:02 cn:Russian+Federation net:MegaFON+open+Joint+Stock+Company rcn: rnet:`,
  );
  const documented = /^id:(\d+) stat:(\w+) err:(\d+) imsi:(\d*) msc:(\d*) mcc:(\d*) mnc:(\d*) cn:([^ ]*) net:([^ ]*) rcn:([^ ]*) rnet:([^ ]*)/;
  const viaRegex = (line: string) => {
    const m = documented.exec(line);
    if (!m) return null;
    const rcn = decodeFormValue(m[10]!);
    const rnet = decodeFormValue(m[11]!);
    return {
      id: m[1], stat: m[2], err: m[3], submitDate: null, doneDate: null, sub: null, dlvrd: null, text: null,
      imsi: m[4], msc: m[5], mcc: m[6], mnc: m[7], cn: decodeFormValue(m[8]!), net: decodeFormValue(m[9]!), rcn, rnet,
      roaming: rcn.trim() !== "" || rnet.trim() !== "", extra: {},
    };
  };
  const time = (fn: (l: string) => unknown) => {
    for (const l of lines.slice(0, 20_000)) fn(l); // warm up
    const started = performance.now();
    for (const l of lines) fn(l);
    return lines.length / ((performance.now() - started) / 1000);
  };
  const regexRate = time(viaRegex);
  const parserRate = time(parseStatusString);
  rows.push({ scenario: "parser, SMSC HLR strings", measured: "lines/s", value: parserRate, baseline: regexRate, ratio: parserRate / regexRate, aim: "≥ 1" });
}

const scenarios: Record<string, () => Promise<void>> = { ingest: benchIngest, rollups: benchRollups, parser: benchParser, lookup: benchLookup, stats: benchStats, hygiene: benchHygiene };

async function main(): Promise<void> {
  const names = selected.length > 0 ? selected : Object.keys(scenarios);
  for (const name of names) if (!scenarios[name]) throw new Error(`unknown scenario "${name}" (have: ${Object.keys(scenarios).join(", ")})`);
  if (names.some((n) => n !== "parser")) {
    if (!process.env.DATABASE_URL) {
      process.stderr.write("npm run bench needs DATABASE_URL (a PostgreSQL server)\n");
      process.exit(2);
    }
    if (!fs.existsSync(ENTRY)) throw new Error("run `npm run build` first");
  }
  for (const name of names) await scenarios[name]!();
  const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(2));
  process.stdout.write(`\n| scenario | measured | value | baseline | ratio | aim |\n|---|---|---|---|---|---|\n`);
  for (const r of rows) process.stdout.write(`| ${r.scenario} | ${r.measured} | ${fmt(r.value)} | ${fmt(r.baseline)} | ${r.ratio.toFixed(2)} | ${r.aim} |\n`);
  for (const r of rows) if (r.note) process.stdout.write(`- ${r.scenario}: ${r.note}\n`);
  const out = path.join(ROOT, "bench", "results", "latest.json");
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), duration_s: duration, rows }, null, 2) + "\n");
  process.stdout.write(`\nwritten to ${path.relative(ROOT, out)}\n`);
}

await main();
