// Delivery statistics against an independent computation. A seeded random stream of registrations and callbacks
// (duplicates, out-of-order statuses, late registrations and HLR rows included) goes through the real routes; then
// every figure of /v1/stats/delivery must equal the one computed by SQL written here over the raw tables
// (status_events, callbacks, hlr_results) and the registrations the test sent. Set STATS_SEED to replay a run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, form, type TestApp } from "../helpers/app.js";

const SEED = Number(process.env.STATS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const EDGES = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];
const DAY0 = Date.parse("2026-03-10T00:00:00Z");
const NOW = new Date("2026-03-20T00:00:00Z");
// Bounds that are not whole hours: the statistics cover [from rounded down, to rounded up).
const FROM = new Date(DAY0 + 7 * 3_600_000 + 25 * 60_000);
const TO = new Date(DAY0 + 2 * 86_400_000 + 13 * 3_600_000 + 10 * 60_000);

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The order the API gives groups in: dimension by dimension, numbers as numbers, nulls last. */
function byKey(dims: string[], a: Record<string, unknown>, b: Record<string, unknown>): number {
  for (const d of dims) {
    const x = a[d] ?? null;
    const y = b[d] ?? null;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    if (typeof x === "number" && typeof y === "number") return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

type Registration = { account: string; id: string; phone: string; sent_at: string; sender?: string; campaign?: string; valid_until?: string };
type Op = { kind: "callback"; account: string; fields: Record<string, string> } | { kind: "register"; reg: Registration };

function buildStream(rand: () => number) {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const accounts = ["shop", "crm"];
  const phones = Array.from({ length: 40 }, (_, i) => (i % 5 === 0 ? `7701${String(1000000 + i)}` : `7916${String(5000000 + i)}`));
  const phase1: Op[] = [];
  // Phase 1: one HLR answer for some numbers, before any message traffic (a message without its own operator is
  // placed on its number's HLR operator).
  const hlrOperators = new Map<string, [string, string]>();
  phones.forEach((phone, i) => {
    if (i % 3 !== 0) return;
    const op = pick([["250", "01"], ["250", "02"], ["401", "77"]] as const);
    hlrOperators.set(phone, [op[0], op[1]]);
    phase1.push({ kind: "callback", account: "shop", fields: { id: `H${i}`, phone, status: "1", err: "0", type: "4", ts: String(DAY0 / 1000), mcc: op[0], mnc: op[1], cn: "X", net: "Y", rcn: "", rnet: "" } });
  });
  const ops: Op[] = [];
  const statuses = [-1, 0, 1, 1, 1, 2, 3, 4, 20, 20, 22, 23, 24, 25];
  const errs = [0, 0, 0, 1, 6, 11, 13, 21, 220, 248, 249, 255];
  for (let m = 0; m < 160; m++) {
    const account = pick(accounts);
    const id = `S${m}`;
    const phone = pick(phones);
    const type = rand() < 0.1 ? 4 : rand() < 0.1 ? 7 : 0;
    const omitType = type === 0 && rand() < 0.4;
    const sentAt = DAY0 + Math.floor(rand() * 3 * 86_400_000);
    const own = rand() < 0.4 ? pick(["25001", "25002", "25099"]) : null;
    const cost = rand() < 0.8 ? pick(["0.30", "3.45", "6.40"]) : null;
    const sender = pick(["SHOP", "INFO"]);
    const registered = rand() < 0.6;
    if (registered) {
      const reg: Registration = { account, id, phone, sent_at: new Date(sentAt).toISOString(), campaign: pick(["bf", "cm", "nl"]) };
      if (rand() < 0.5) reg.sender = pick(["SHOP", "PROMO"]);
      if (rand() < 0.7) reg.valid_until = new Date(sentAt + pick([3600, 86_400, 30 * 86_400]) * 1000).toISOString();
      ops.push({ kind: "register", reg });
    }
    const events = rand() < 0.1 && registered ? 0 : 1 + Math.floor(rand() * 3);
    for (let e = 0; e < events; e++) {
      const status = pick(statuses);
      // An HLR answer with status 1 carries the subscriber's state in err; a delivery with status 1 has none.
      const err = type === 4 && status === 1 ? pick([0, 0, 1, 6, 13]) : status === 1 || status === 2 || status === 4 || status <= 0 ? 0 : pick(errs);
      const at = sentAt + Math.floor(rand() * rand() * 200_000) * 1000 - (rand() < 0.05 ? 5000 : 0);
      const fields: Record<string, string> = { id, phone, status: String(status), err: String(err), ts: String(Math.floor(at / 1000)), sender_id: sender };
      if (!omitType) fields.type = String(type); // an SMS's callbacks may name no type at all
      if (cost) fields.cost = cost;
      if (own) fields.mccmnc = own;
      ops.push({ kind: "callback", account, fields });
      if (rand() < 0.15) ops.push({ kind: "callback", account, fields: { ...fields } }); // a retry
    }
  }
  // Whatever the seed, the stream holds (inside the queried range) a missing receipt (registered, past its validity, no final status) and a
  // registered delivery (a latency resting on a registered send time).
  ops.push({ kind: "register", reg: { account: "shop", id: "FIXED-MISS", phone: phones[1]!, sent_at: new Date(DAY0 + 10 * 3_600_000).toISOString(), campaign: "bf", valid_until: new Date(DAY0 + 11 * 3_600_000).toISOString() } });
  ops.push({ kind: "register", reg: { account: "crm", id: "FIXED-LAT", phone: phones[2]!, sent_at: new Date(DAY0 + 10 * 3_600_000).toISOString(), campaign: "cm" } });
  ops.push({ kind: "callback", account: "crm", fields: { id: "FIXED-LAT", phone: phones[2]!, status: "1", err: "0", type: "0", ts: String(Math.floor((DAY0 + 10 * 3_600_000 + 30_000) / 1000)), sender_id: "SHOP" } });
  // Shuffle: registrations may come after their callbacks (late registrations), statuses out of order.
  for (let i = ops.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [ops[i], ops[j]] = [ops[j]!, ops[i]!];
  }
  return { phase1, ops, hlrOperators };
}

describe(`GET /v1/stats/delivery against SQL over the raw tables (seed ${SEED})`, () => {
  let t: TestApp;
  let registrations: Registration[] = [];

  beforeAll(async () => {
    console.log(`stats-delivery seed: ${SEED} (replay with STATS_SEED=${SEED})`);
    t = await createTestApp({ CALLBACK_ACCOUNTS: "shop:tok-shop,crm:tok-crm", API_RATE_BURST: "100000" }, { clock: () => NOW });
    const { phase1, ops } = buildStream(mulberry32(SEED));
    const send = async (op: Op) => {
      if (op.kind === "callback") {
        const r = await t.request(`/callbacks/smsc?token=tok-${op.account}`, form(op.fields));
        expect(r.status).toBe(200);
      } else {
        const r = await t.request("/v1/messages", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ messages: [op.reg] }) });
        expect(r.json()).toMatchObject({ accepted: 1 });
        registrations.push(op.reg);
      }
    };
    for (const op of phase1) await send(op);
    for (let i = 0; i < ops.length; i += 16) await Promise.all(ops.slice(i, i + 16).map(send));
    // The registrations, as the test sent them, for the SQL below (the last registration of a message wins).
    await t.database.db.query("CREATE TABLE t_reg (account text, smsc_id text, phone text, sent_at timestamptz, sender text, campaign text, valid_until timestamptz, n int)");
    await t.database.db.query(
      `INSERT INTO t_reg SELECT account, id, phone, sent_at, sender, campaign, valid_until, n
       FROM json_to_recordset($1::text::json) AS r(account text, id text, phone text, sent_at timestamptz, sender text, campaign text, valid_until timestamptz, n int)`,
      [JSON.stringify(registrations.map((r, n) => ({ ...r, phone: r.phone, n })))],
    );
  }, 300_000);
  afterAll(() => t.close());

  // Every message's facts, from the raw tables only.
  const EXPECTED_CTE = `
    WITH reg AS (
      SELECT DISTINCT ON (account, smsc_id, phone) * FROM t_reg ORDER BY account, smsc_id, phone, n DESC
    ),
    ev AS (
      SELECT account, smsc_id, phone, status, err, event_at,
        (status IN (-3, 1, 2, 3, 4) OR status BETWEEN 20 AND 25) AS final, status IN (2, 4) AS engagement,
        -- delivered: status 1, 2 or 4; for an HLR or ping request only status 1 with err 0
        status IN (1, 2, 4) AND NOT (coalesce(type, 0) IN (4, 5) AND status = 1 AND err <> 0) AS delivered
      FROM status_events
    ),
    cur AS (
      SELECT DISTINCT ON (account, smsc_id, phone) account, smsc_id, phone, status, err
      FROM ev ORDER BY account, smsc_id, phone, final DESC, engagement DESC, event_at DESC, status DESC, err DESC
    ),
    cb AS (
      SELECT account, smsc_id, phone, max((fields->>'type')::int) AS type, max(fields->>'cost') AS cost,
        max(fields->>'sender_id') AS sender, max(fields->>'mccmnc') AS mccmnc
      FROM callbacks WHERE kind IN ('status', 'hlr', 'ping', 'call') AND error IS NULL GROUP BY account, smsc_id, phone
    ),
    ev_agg AS (
      SELECT account, smsc_id, phone, min(event_at) AS first_at,
        min(event_at) FILTER (WHERE delivered) AS delivered_at
      FROM ev GROUP BY account, smsc_id, phone
    ),
    hlr AS (
      SELECT DISTINCT ON (phone) phone, mcc, mnc FROM hlr_results WHERE smsc_id LIKE 'H%' ORDER BY phone, event_at DESC
    ),
    msg AS (
      SELECT k.account, k.smsc_id, k.phone,
        coalesce(cb.type, 0) AS type,
        cur.status, CASE WHEN cur.status IS NULL THEN NULL ELSE cur.err END AS err,
        coalesce(cb.cost, '0')::numeric AS cost,
        coalesce(reg.sender, cb.sender) AS sender, reg.campaign,
        coalesce(left(cb.mccmnc, 3), hlr.mcc) AS mcc,
        CASE WHEN cb.mccmnc IS NOT NULL THEN substr(cb.mccmnc, 4) ELSE hlr.mnc END AS mnc,
        CASE WHEN k.phone LIKE '77%' THEN 'KZ' ELSE 'RU' END AS country,
        coalesce(reg.sent_at, ev_agg.first_at) AS placed_at,
        reg.sent_at IS NOT NULL AS registered, reg.valid_until,
        CASE WHEN cur.status IN (1, 2, 4) AND NOT (coalesce(cb.type, 0) IN (4, 5) AND cur.status = 1 AND cur.err <> 0)
          THEN greatest(0, extract(epoch FROM ev_agg.delivered_at - coalesce(reg.sent_at, ev_agg.first_at))) END AS latency,
        coalesce(cb.type, 0) IN (4, 5) AND cur.status = 1 AND cur.err <> 0 AS hlr_failed
      FROM (SELECT account, smsc_id, phone FROM reg UNION SELECT account, smsc_id, phone FROM ev_agg) k
      LEFT JOIN reg USING (account, smsc_id, phone)
      LEFT JOIN cur USING (account, smsc_id, phone)
      LEFT JOIN cb USING (account, smsc_id, phone)
      LEFT JOIN ev_agg USING (account, smsc_id, phone)
      LEFT JOIN hlr ON hlr.phone = k.phone
    )`;

  const DIM_SQL: Record<string, string> = {
    hour: "to_char(date_trunc('hour', placed_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.000\"Z\"')",
    day: "to_char(date_trunc('day', placed_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI:SS.000\"Z\"')",
    operator: "coalesce(mcc || '-' || mnc, 'unknown')",
    country: "country",
    status: "status",
    err: "err",
    type: "type",
    sender: "sender",
    campaign: "campaign",
    account: "account",
  };
  const bucketEdge = (col: string) => `CASE ${EDGES.map((e) => `WHEN ${col} <= ${e} THEN ${e}`).join(" ")} ELSE NULL END`;

  async function expected(groupBy: string[], typeFilter?: number) {
    const dims = groupBy.map((d, i) => `${DIM_SQL[d]} AS g${i}`);
    const rows = await t.database.db.query<Record<string, unknown>>(
      `${EXPECTED_CTE}
       SELECT ${[...dims, ""].join(", ")}
         count(*)::int AS messages,
         count(*) FILTER (WHERE status IN (1, 2, 4) AND NOT hlr_failed)::int AS delivered,
         count(*) FILTER (WHERE status = 3)::int AS expired,
         count(*) FILTER (WHERE status = 22 OR ((status IN (-3, 20, 21, 25) OR hlr_failed) AND err IN (1, 249, 11, 13, 21)))::int AS failed_permanent,
         count(*) FILTER (WHERE (status IN (-3, 20, 21, 25) OR hlr_failed) AND err IN (6, 220))::int AS failed_temporary,
         count(*) FILTER (WHERE status IN (23, 24) OR ((status IN (-3, 20, 21, 25) OR hlr_failed) AND err NOT IN (1, 249, 11, 13, 21, 6, 220)))::int AS failed_other,
         count(*) FILTER (WHERE status IS NULL OR status IN (-2, -1, 0))::int AS pending,
         count(*) FILTER (WHERE registered AND valid_until < $1 AND NOT coalesce(status IN (-3, 1, 2, 3, 4) OR status BETWEEN 20 AND 25, false))::int AS missing_receipts,
         sum(cost)::numeric(18, 4)::text AS cost,
         count(latency) FILTER (WHERE registered)::int AS from_registered,
         ${bucketEdge("percentile_disc(0.5) WITHIN GROUP (ORDER BY latency)")} AS p50,
         ${bucketEdge("percentile_disc(0.9) WITHIN GROUP (ORDER BY latency)")} AS p90,
         ${bucketEdge("percentile_disc(0.99) WITHIN GROUP (ORDER BY latency)")} AS p99
       FROM msg
       WHERE placed_at >= date_trunc('hour', $2::timestamptz) AND date_trunc('hour', placed_at) < date_trunc('hour', $3::timestamptz + interval '59 minutes 59.999 seconds')
         AND ${typeFilter === undefined ? "type NOT IN (4, 5)" : `type = ${typeFilter}`}
       ${groupBy.length ? `GROUP BY ${groupBy.map((_, i) => `g${i}`).join(", ")}` : ""}`,
      [NOW, FROM, TO],
    );
    return rows
      .map((r) => {
        const g: Record<string, unknown> = {};
        groupBy.forEach((d, i) => (g[d] = r[`g${i}`] === null ? null : ["status", "err", "type"].includes(d) ? Number(r[`g${i}`]) : r[`g${i}`]));
        const messages = Number(r.messages);
        const pending = Number(r.pending);
        const delivered = Number(r.delivered);
        return {
          ...g,
          messages,
          delivered,
          expired: Number(r.expired),
          failed_permanent: Number(r.failed_permanent),
          failed_temporary: Number(r.failed_temporary),
          failed_other: Number(r.failed_other),
          pending,
          missing_receipts: Number(r.missing_receipts),
          delivery_rate: messages - pending > 0 ? delivered / (messages - pending) : null,
          latency_s: {
            p50: r.p50 === null ? null : Number(r.p50),
            p90: r.p90 === null ? null : Number(r.p90),
            p99: r.p99 === null ? null : Number(r.p99),
            from_registered: Number(r.from_registered),
          },
          cost: String(r.cost ?? "0.0000"),
        };
      })
      .sort((a, b) => byKey(groupBy, a as Record<string, unknown>, b as Record<string, unknown>));
  }

  async function actual(groupBy: string[], typeFilter?: number) {
    const q = new URLSearchParams({ from: FROM.toISOString(), to: TO.toISOString() });
    if (groupBy.length) q.set("group_by", groupBy.join(","));
    if (typeFilter !== undefined) q.set("type", String(typeFilter));
    const r = await t.request(`/v1/stats/delivery?${q}`);
    expect(r.status).toBe(200);
    const groups = r.json().groups as Record<string, unknown>[];
    return groups;
  }

  it.each([
    [[]],
    [["day"]],
    [["hour"]],
    [["operator"]],
    [["country"]],
    [["status", "err"]],
    [["campaign", "sender"]],
    [["account", "type"]],
    [["day", "operator", "country"]],
  ])("group_by %j: every figure equals the SQL over the raw tables", async (groupBy) => {
    const [got, want] = [await actual(groupBy), await expected(groupBy)];
    expect(want.length).toBeGreaterThan(0);
    expect(got).toEqual(want);
  });

  it("HLR requests (type 4) only when the type filter asks for them", async () => {
    const [got, want] = [await actual(["operator"], 4), await expected(["operator"], 4)];
    expect(want.length).toBeGreaterThan(0);
    expect(got).toEqual(want);
  });

  it("the stream exercised what it should: registrations, missing receipts, latencies, several classes", async () => {
    const [total] = await expected([]);
    expect(registrations.length).toBeGreaterThan(50);
    expect(total!.missing_receipts).toBeGreaterThan(0);
    expect(total!.latency_s.from_registered).toBeGreaterThan(0);
    expect(total!.delivered).toBeGreaterThan(0);
    expect(total!.failed_permanent + total!.failed_temporary + total!.failed_other).toBeGreaterThan(0);
  });
});
