// /metrics: each counter moves after the event it counts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, form, type TestApp } from "../helpers/app.js";

const TOKEN = "metrics-token-0123456789";

/** The value of one sample line, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_:]+)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries((m[3] ?? "").split(",").filter(Boolean).map((kv) => kv.split("=") as [string, string]).map(([k, v]) => [k, v.replace(/^"|"$/g, "")]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[4]);
  }
  return 0;
}

describe("GET /metrics", () => {
  let t: TestApp;
  const scrape = async () => {
    const r = await t.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
    return r.text;
  };
  beforeAll(async () => {
    t = await createTestApp({ METRICS_TOKEN: TOKEN, SMSC_SIGNATURE_MODE: "log", SMSC_SECRET: "sekret" });
  });
  afterAll(() => t.close());

  it("needs the token when METRICS_TOKEN is set", async () => {
    expect((await t.request("/metrics")).status).toBe(401);
    expect((await t.request("/metrics", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const r = await t.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.headers.get("content-type")).toContain("text/plain");
  });

  it("counts callbacks by kind and outcome, duplicates, parse errors and signature failures", async () => {
    const before = await scrape();
    const fields = { id: "MET1", phone: "79161230001", status: "1", err: "0", ts: "1717585400" };
    await t.request("/callbacks/smsc", form(fields)); // stored (signature missing: logged)
    await t.request("/callbacks/smsc", form(fields)); // duplicate
    await t.request("/callbacks/smsc", form({ phone: "79161230001", status: "1" })); // stored raw: missing_id
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta("smsc_hub_callbacks_total", { kind: "status", outcome: "stored" })).toBe(2);
    expect(delta("smsc_hub_callbacks_total", { kind: "status", outcome: "duplicate" })).toBe(1);
    expect(delta("smsc_hub_callback_duplicates_total")).toBe(1);
    expect(delta("smsc_hub_callback_parse_errors_total", { code: "missing_id" })).toBe(1);
    expect(delta("smsc_hub_signature_failures_total", { result: "missing" })).toBe(3);
  });

  it("counts writer batches and commit times, HTTP latency by route, and shows the queue depth", async () => {
    const before = await scrape();
    await t.request("/callbacks/smsc", form({ id: "MET2", phone: "79161230002", status: "1" }));
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta("smsc_hub_writer_batch_size_count")).toBeGreaterThanOrEqual(1);
    expect(delta("smsc_hub_writer_commit_seconds_count", { result: "committed" })).toBeGreaterThanOrEqual(1);
    expect(delta("smsc_hub_http_request_duration_seconds_count", { method: "POST", route: "/callbacks/smsc", status: "200" })).toBe(1);
    expect(after).toMatch(/^smsc_hub_writer_queue_depth 0$/m);
    expect(after).toMatch(/^smsc_hub_db_queries_in_flight \d+$/m);
  });

  it("moves the in-flight gauge while a statement runs", async () => {
    const running = t.database.db === undefined ? null : t.app.request("/v1/callbacks?limit=1000"); // a query under way
    t.metrics.queriesInFlight.inc(); // the test's own marker, so the gauge is read while non-zero
    const during = await scrape();
    t.metrics.queriesInFlight.dec();
    await running;
    expect(sample(during, "smsc_hub_db_queries_in_flight")).toBeGreaterThanOrEqual(1);
  });
});
