// replay: a stored-but-unusable callback becomes usable after a field-map change, replay derives it, and a second
// run changes nothing.
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReplay } from "../../src/cli/replay-command.js";
import { parseConfig } from "../../src/config.js";
import { replay } from "../../src/ingest/replay.js";
import { createTestApp, form, type TestApp } from "../helpers/app.js";

const TABLES = ["callbacks", "callback_keys", "messages", "status_events", "hlr_results", "numbers", "delivery_rollups", "incoming_messages", "opt_outs", "waitcall_events", "ivr_events"];

async function snapshot(t: TestApp) {
  const out: Record<string, unknown> = {};
  for (const table of TABLES) out[table] = (await t.database.db.query(`SELECT count(*)::int AS n FROM ${table}`))[0];
  out.messages_state = await t.database.db.query("SELECT smsc_id, phone, status, err, final FROM messages ORDER BY smsc_id, phone");
  out.numbers_state = await t.database.db.query("SELECT phone, delivered_count, failed_count, last_status FROM numbers ORDER BY phone");
  out.rollups = await t.database.db.query("SELECT sum(messages)::int AS messages, sum(cost)::text AS cost FROM delivery_rollups");
  out.callback_kinds = await t.database.db.query("SELECT id::int AS id, kind, error FROM callbacks ORDER BY id");
  return out;
}

describe("replay", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    // Usable traffic, so a replay has something it must not double.
    await t.request("/callbacks/smsc", form({ id: "RP1", phone: "79161110001", status: "1", err: "0", ts: "1717585400", cost: "1.20" }));
    await t.request("/callbacks/smsc", form({ id: "RP1", phone: "79161110001", status: "0", err: "0", ts: "1717585300" }));
    await t.request("/callbacks/smsc", form({ id: "RP2", phone: "79161110002", status: "20", err: "1", ts: "1717585400", type: "0" }));
    await t.request("/callbacks/smsc", form({ id: "HL1", phone: "79161110002", status: "1", err: "0", type: "4", mcc: "250", mnc: "01" }));
    await t.request("/callbacks/smsc", form({ id: "MO1", phone: "79161110003", mes: "STOP", ts: "1717585400" }));
    await t.request("/callbacks/smsc", form({ waitcall: "1", phone: "79161110004", ts: "1717586000" }));
    // An IVR event under field names we do not know: stored raw, unclassified.
    await t.request("/callbacks/smsc", form({ id: "IV1", phone: "79161110005", btn: "12", secs: "40" }));
  });
  afterAll(() => t.close());

  it("re-derives nothing new with the same configuration", async () => {
    const before = await snapshot(t);
    const result = await replay(t.database.db, t.config, { since: null });
    expect(result).toEqual({ scanned: 7, derived: 6, reclassified: 0, unusable: 1 });
    expect(await snapshot(t)).toEqual(before);
  });

  it("derives the unknown callback once IVR_FIELD_MAP names its fields, and a second run changes nothing", async () => {
    const [unknown] = await t.database.db.query<{ kind: string; error: string }>("SELECT kind, error FROM callbacks WHERE fields->>'btn' = '12'");
    expect(unknown).toEqual({ kind: "unknown", error: "unclassified" });
    const config = parseConfig({ LOG_LEVEL: "silent", IVR_FIELD_MAP: "btn=path,secs=seconds" });

    const first = await replay(t.database.db, config, { since: null });
    expect(first).toMatchObject({ scanned: 7, derived: 7, reclassified: 1, unusable: 0 });
    const [now] = await t.database.db.query<{ kind: string; error: string | null; smsc_id: string }>("SELECT kind, error, smsc_id FROM callbacks WHERE fields->>'btn' = '12'");
    expect(now).toEqual({ kind: "ivr", error: null, smsc_id: "IV1" });
    const events = await t.database.db.query("SELECT smsc_id, phone, menu_path, seconds FROM ivr_events");
    expect(events).toEqual([{ smsc_id: "IV1", phone: "79161110005", menu_path: "12", seconds: 40 }]);

    const after = await snapshot(t);
    const second = await replay(t.database.db, config, { since: null });
    expect(second).toMatchObject({ scanned: 7, derived: 7, reclassified: 0, unusable: 0 });
    expect(await snapshot(t)).toEqual(after);
  });

  it("the CLI prints its summary as JSON and takes --since", async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = "";
    stdout.on("data", (d: Buffer) => (out += d.toString()));
    const config = parseConfig({ LOG_LEVEL: "silent", IVR_FIELD_MAP: "btn=path,secs=seconds" });
    // The test's database stays open: hand the command a view of it that it may "close".
    const openDb = async () => ({ ...t.database.db, close: async () => {} });
    const code = await runReplay(["--since", "1h"], { stdout, stderr, config, openDb });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ scanned: 7, reclassified: 0 });
    const bad = await runReplay(["--since", "yesterday"], { stdout, stderr, config, openDb });
    expect(bad).toBe(2);
    const future = await runReplay(["--since", "2999-01-01T00:00:00Z"], { stdout: new PassThrough(), stderr, config, openDb });
    expect(future).toBe(0);
  });
});
