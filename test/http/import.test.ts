import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stageImportLines } from "../../src/db/queries/import-lines.js";
import { ABANDONED_IMPORT_MS, sweepUploads } from "../../src/services/hygiene.js";
import { createTestApp, form, type TestApp } from "../helpers/app.js";

const KEY = "test-key-import-0123456789";
const auth = { authorization: `Bearer ${KEY}` };
const post = (body: string | Uint8Array, contentType = "text/plain", query = "") => ({
  method: "POST",
  headers: { ...auth, "content-type": contentType },
  body,
});

async function messageRow(t: TestApp, smscId: string, phone: string) {
  const rows = await t.database.db.query<{ status: number; err: number; final: boolean }>(
    "SELECT status, err, final FROM messages WHERE smsc_id = $1 AND phone = $2",
    [smscId, phone],
  );
  return rows[0];
}

describe("POST /v1/import/receipts", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ API_KEYS: KEY });
  });
  afterAll(() => t.close());

  describe("happy path", () => {
    it("stores phone<TAB>receipt lines as callbacks, with derived messages, events and HLR results", async () => {
      const body = [
        "79161230001\tid:IMP1 sub:001 dlvrd:001 submit date:2406051403 done date:2406051404 stat:DELIVRD err:000 text:Hello",
        "79161230002\tid:IMP2 stat:DELIVRD err:000 imsi:250023012345678 msc:79232510066 mcc:250 mnc:02 cn:Russian+Federation net:MegaFon rcn:Turkey rnet:Turkcell",
        "+7 916 123-00-03\tid:IMP3 sub:001 dlvrd:000 submit date:2406051403 done date:2406051503 stat:EXPIRED err:006 text:",
      ].join("\n");
      const r = await t.request("/v1/import/receipts", post(body));
      expect(r.status).toBe(200);
      expect(r.json()).toEqual({ received: 3, stored: 3, duplicates: 0, unmatched: 0, rejected_total: 0, rejected: [] });

      expect(await messageRow(t, "IMP1", "79161230001")).toMatchObject({ status: 1, err: 0, final: true });
      expect(await messageRow(t, "IMP3", "79161230003")).toMatchObject({ status: 3, err: 6, final: true });
      const [event] = await t.database.db.query<{ event_at: Date }>("SELECT event_at FROM status_events WHERE smsc_id = 'IMP1'");
      // done date 2406051404 is 14:04 in Europe/Moscow (UTC+3)
      expect(new Date(event!.event_at).toISOString()).toBe("2024-06-05T11:04:00.000Z");
      const [hlr] = await t.database.db.query<Record<string, unknown>>("SELECT * FROM hlr_results WHERE smsc_id = 'IMP2'");
      expect(hlr).toMatchObject({ phone: "79161230002", imsi: "250023012345678", mcc: "250", mnc: "02", country: "Russian Federation", network: "MegaFon", roaming_country: "Turkey", roaming: true });
      const [cb] = await t.database.db.query<{ kind: string; fields: Record<string, string>; route: string }>("SELECT kind, fields, route FROM callbacks WHERE smsc_id = 'IMP2'");
      expect(cb).toMatchObject({ kind: "hlr", route: "/v1/import/receipts" });
      expect(cb!.fields.receipt).toContain("id:IMP2");
    });

    it("changes nothing when the same file is sent twice", async () => {
      const body = "79161230011\tid:TWICE1 stat:DELIVRD err:0\n79161230012\tid:TWICE2 stat:UNDELIV err:1\n";
      const first = (await t.request("/v1/import/receipts", post(body))).json();
      expect(first).toMatchObject({ received: 2, stored: 2, duplicates: 0 });
      const before = await t.database.db.query("SELECT count(*)::int AS n FROM status_events");
      const second = (await t.request("/v1/import/receipts", post(body))).json();
      expect(second).toMatchObject({ received: 2, stored: 0, duplicates: 2 });
      expect(await t.database.db.query("SELECT count(*)::int AS n FROM status_events")).toEqual(before);
      const [n] = await t.database.db.query<{ failed_count: number }>("SELECT failed_count FROM numbers WHERE phone = '79161230012'");
      expect(n!.failed_count).toBe(1);
    });

    it("matches a line without a phone to the one message with that id", async () => {
      expect((await t.request("/callbacks/smsc", form({ id: "MATCH1", phone: "79161230021", status: "0", ts: "1717585400" }))).status).toBe(200);
      const r = await t.request("/v1/import/receipts", post("id:MATCH1 sub:001 dlvrd:001 submit date:2406051403 done date:2406051404 stat:DELIVRD err:000 text:x\n"));
      expect(r.json()).toMatchObject({ received: 1, stored: 1, unmatched: 0 });
      expect(await messageRow(t, "MATCH1", "79161230021")).toMatchObject({ status: 1 });
    });

    it("reports unmatched and ambiguous lines", async () => {
      await t.request("/callbacks/smsc", form({ id: "AMB1", phone: "79161230031", status: "0" }));
      await t.request("/callbacks/smsc", form({ id: "AMB1", phone: "79161230032", status: "0" }));
      const r = await t.request("/v1/import/receipts", post("id:NOSUCH stat:DELIVRD\nid:AMB1 stat:DELIVRD\n"));
      const body = r.json();
      expect(body).toMatchObject({ received: 2, stored: 0, unmatched: 2, rejected_total: 2 });
      expect(body.rejected).toEqual([
        { line: 1, code: "unmatched", message: expect.any(String) },
        { line: 2, code: "ambiguous", message: expect.any(String) },
      ]);
    });

    it.each([
      ["DELIVRD", 1],
      ["ACCEPTD", 1],
      ["EXPIRED", 3],
      ["UNDELIV", 20],
      ["DELETED", 20],
      ["REJECTD", 23],
      ["ENROUTE", 0],
      ["UNKNOWN", -3],
      ["25", 25],
    ])("maps stat %s to SMSC status %i", async (stat, status) => {
      const id = `STAT-${stat}`;
      const r = await t.request("/v1/import/receipts", post(`79161230100\tid:${id} stat:${stat} err:000`));
      expect(r.json()).toMatchObject({ stored: 1 });
      expect(await messageRow(t, id, "79161230100")).toMatchObject({ status });
    });

    it("reads windows-1251 lines and CRLF line ends", async () => {
      const line = "79161230200\tid:CP1 stat:DELIVRD err:000 imsi:250011234567890 mcc:250 mnc:01 cn:Россия net:МТС rcn: rnet:\r\n";
      const bytes = new Uint8Array([...line].map((ch) => {
        const code = ch.charCodeAt(0);
        return code >= 0x410 && code <= 0x44f ? code - 0x410 + 0xc0 : code; // А-я in windows-1251
      }));
      const r = await t.request("/v1/import/receipts", post(bytes));
      expect(r.json()).toMatchObject({ stored: 1 });
      const [hlr] = await t.database.db.query<{ country: string; network: string; roaming: boolean }>("SELECT country, network, roaming FROM hlr_results WHERE smsc_id = 'CP1'");
      expect(hlr).toEqual({ country: "Россия", network: "МТС", roaming: false });
    });

    it("takes 100,000 lines in one request", async () => {
      const lines: string[] = [];
      for (let i = 0; i < 100_000; i++) {
        lines.push(`7916${String(4000000 + (i % 50_000)).padStart(7, "0")}\tid:BULK${i} stat:${i % 3 === 0 ? "UNDELIV" : "DELIVRD"} err:000`);
      }
      const r = await t.request("/v1/import/receipts", post(lines.join("\n")));
      expect(r.status).toBe(200);
      expect(r.json()).toMatchObject({ received: 100_000, stored: 100_000, duplicates: 0, rejected_total: 0 });
      const [counts] = await t.database.db.query<{ n: number; delivered: number }>(
        "SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 1)::int AS delivered FROM messages WHERE smsc_id LIKE 'BULK%'",
      );
      expect(counts).toEqual({ n: 100_000, delivered: 66_666 });
    }, 300_000);
  });

  describe("an import whose process died", () => {
    it("leaves staged lines that the upload sweep removes after a day, keeping those of imports under way", async () => {
      const now = new Date();
      const line = (smscId: string) => [{ lineNo: 1, smscId, receipt: `id:${smscId} stat:DELIVRD err:000` }];
      await stageImportLines(t.database.db, "import-killed", line("K1"), new Date(now.getTime() - ABANDONED_IMPORT_MS - 60_000));
      await stageImportLines(t.database.db, "import-running", line("K2"), new Date(now.getTime() - 60_000));
      const swept = await sweepUploads(t.database.db, now);
      expect(swept.abandonedImportLines).toBe(1);
      const left = await t.database.db.query<{ import_id: string }>("SELECT import_id FROM import_lines WHERE import_id LIKE 'import-%' ORDER BY import_id");
      expect(left.map((r) => r.import_id)).toEqual(["import-running"]);
      expect((await sweepUploads(t.database.db, now)).abandonedImportLines).toBe(0);
    });
  });

  describe("errors", () => {
    it("lists the lines it could not use, with line numbers and codes", async () => {
      const body = ["79161230300\tid:E1 stat:WHATEVER err:0", "", "79161230300\tstat:DELIVRD", "79161230300\tid:E3", "79161230300\tid:E4 stat:DELIVRD done date:2413999999", "abc\tid:E5 stat:DELIVRD", "79161230300\tid:E6 stat:DELIVRD"].join("\n");
      const r = await t.request("/v1/import/receipts", post(body));
      const result = r.json();
      expect(result).toMatchObject({ received: 6, stored: 1, rejected_total: 5 });
      expect(result.rejected.map((x: { line: number; code: string }) => [x.line, x.code])).toEqual([
        [1, "unknown_stat"],
        [3, "missing_id"],
        [4, "missing_stat"],
        [5, "bad_date"],
        [6, "bad_phone"],
      ]);
    });

    it("lists at most 1000 rejected lines but counts them all", async () => {
      const body = Array.from({ length: 1500 }, (_, i) => `79161230400\tid:R${i} stat:NOPE`).join("\n");
      const result = (await t.request("/v1/import/receipts", post(body))).json();
      expect(result.rejected).toHaveLength(1000);
      expect(result.rejected_total).toBe(1500);
    });

    it("answers 415 to anything but text/plain", async () => {
      const r = await t.request("/v1/import/receipts", post("{}", "application/json"));
      expect(r.status).toBe(415);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
    });
  });

  describe("security", () => {
    it("needs an API key", async () => {
      const r = await t.request("/v1/import/receipts", { method: "POST", headers: { "content-type": "text/plain" }, body: "79161230500\tid:SEC stat:DELIVRD" });
      expect(r.status).toBe(401);
      expect(await messageRow(t, "SEC", "79161230500")).toBeUndefined();
    });
  });
});

describe("POST /v1/import/receipts, edge cases", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ CALLBACK_ACCOUNTS: "shop:tok1", API_RATE_BURST: "100000" });
  });
  afterAll(() => t.close());
  const send = (body: string, query = "") =>
    t.request(`/v1/import/receipts${query}`, { method: "POST", headers: { "content-type": "text/plain" }, body });

  it("a line without a phone matches a message that a phone line of the same file creates, on the first run too", async () => {
    const body = "79161239001\tid:SAME1 stat:ENROUTE err:0\nid:SAME1 stat:DELIVRD err:0 done date:2406051404\n";
    expect((await send(body)).json()).toMatchObject({ received: 2, stored: 2, unmatched: 0 });
    expect((await send(body)).json()).toMatchObject({ received: 2, stored: 0, duplicates: 2, unmatched: 0 });
  });

  it("rejects a line over 64 KiB and goes on with the next", async () => {
    const body = `79161239002\tid:LONG stat:DELIVRD text:${"x".repeat(70 * 1024)}\n79161239002\tid:SHORT stat:DELIVRD\n`;
    const r = (await send(body)).json();
    expect(r).toMatchObject({ received: 2, stored: 1, rejected_total: 1 });
    expect(r.rejected[0]).toMatchObject({ line: 1, code: "line_too_long" });
  });

  it("refuses an account that is not configured, and a malformed one", async () => {
    const unknown = await send("79161239003\tid:ACC stat:DELIVRD\n", "?account=other");
    expect(unknown.status).toBe(400);
    expect(unknown.json().errors[0].field).toBe("account");
    const nul = await send("79161239003\tid:ACC stat:DELIVRD\n", "?account=%00");
    expect(nul.status).toBe(400);
    expect((await send("79161239003\tid:ACC stat:DELIVRD\n", "?account=shop")).json()).toMatchObject({ stored: 1 });
  });
});
