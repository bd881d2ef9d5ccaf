import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, form, type TestApp } from "../helpers/app.js";
import { bearer, makeKey } from "../helpers/keys.js";

const ADMIN = "test-admin-key-messages-0123456789";
const json = (body: unknown, key = ADMIN): RequestInit => ({
  method: "POST",
  headers: bearer(key, { "content-type": "application/json" }),
  body: JSON.stringify(body),
});
const get = (key = ADMIN, headers: Record<string, string> = {}): RequestInit => ({ headers: bearer(key, headers) });

describe("messages", () => {
  let t: TestApp;
  let readKey: string;
  beforeAll(async () => {
    t = await createTestApp({ API_KEYS: ADMIN, API_RATE_BURST: "100000", API_BODY_LIMIT: "2000000", CALLBACK_ACCOUNTS: "shop:tok1,crm:tok2" });
    readKey = (await makeKey(t.database.db, "read")).key;
  });
  afterAll(() => t.close());

  describe("POST /v1/messages: happy path", () => {
    it("registers messages, normalising phones, and answers what it accepted", async () => {
      const menu = await t.request("/v1/ivr/menus", json({ text: "Hello\n{menu: 1 sales\n1: url\n1: Sales}", name: "m1" }));
      expect(menu.status).toBe(201);
      const m1: string = menu.json().id;
      const r = await t.request(
        "/v1/messages",
        json({
          messages: [
            { id: "R1", phone: "+7 916 100-00-01", sent_at: "2026-11-20T10:00:00Z", sender: "SHOP", campaign: "bf", parts: 2, valid_until: "2026-11-20T11:00:00Z", menu_id: m1 },
            { account: "crm", id: "R2", phone: "89161000002", sent_at: "2026-11-20T10:00:00+03:00" },
          ],
        }),
      );
      expect(r.status).toBe(200);
      expect(r.json()).toEqual({ accepted: 2, rejected: [] });
      const one = (await t.request("/v1/messages/R1", get())).json();
      expect(one).toMatchObject({
        account: "shop",
        id: "R1",
        phone: "79161000001",
        e164: "+79161000001",
        registered: true,
        sent_at: "2026-11-20T10:00:00.000Z",
        sender: "SHOP",
        campaign: "bf",
        parts: 2,
        valid_until: "2026-11-20T11:00:00.000Z",
        menu_id: m1,
        status: null,
        final: false,
        country: "RU",
        history: [],
      });
      expect((await t.request("/v1/messages/R2?account=crm", get())).json()).toMatchObject({ phone: "79161000002", sent_at: "2026-11-20T07:00:00.000Z" });
    });

    it("joins callbacks that came first, and a second registration updates the first", async () => {
      await t.request("/callbacks/smsc?token=tok1", form({ id: "R3", phone: "79161000003", status: "1", err: "0", ts: String(Date.parse("2026-11-20T10:00:30Z") / 1000), sender_id: "CBSENDER", mccmnc: "25002" }));
      await t.request("/v1/messages", json({ messages: [{ id: "R3", phone: "79161000003", sent_at: "2026-11-20T10:00:00Z", campaign: "first" }] }));
      await t.request("/v1/messages", json({ messages: [{ id: "R3", phone: "79161000003", sent_at: "2026-11-20T10:00:10Z", campaign: "second", sender: "REG" }] }));
      const m = (await t.request("/v1/messages/R3", get())).json();
      expect(m).toMatchObject({ status: 1, final: true, registered: true, sent_at: "2026-11-20T10:00:10.000Z", campaign: "second", sender: "REG", operator: { id: "250-02" } });
      expect(m.history).toEqual([{ status: 1, status_name: "delivered", err: 0, at: "2026-11-20T10:00:30.000Z", received_at: expect.any(String) }]);
      // The statistics moved with it: one message in campaign "second", latency 20 s (bucket 30), none left in "first".
      const stats = (await t.request("/v1/stats/delivery?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z&group_by=campaign&campaign=second", get())).json();
      expect(stats.groups).toEqual([expect.objectContaining({ campaign: "second", messages: 1, delivered: 1, latency_s: { p50: 30, p90: 30, p99: 30, from_registered: 1 } })]);
      const first = (await t.request("/v1/stats/delivery?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z&campaign=first", get())).json();
      expect(first.groups).toEqual([]);
    });
  });

  describe("POST /v1/messages: errors", () => {
    it("rejects each bad item with its index and fields, and stores the good ones", async () => {
      const r = await t.request(
        "/v1/messages",
        json({
          messages: [
            { id: "E1", phone: "79161000010", sent_at: "2026-11-20T10:00:00Z" },
            { id: "E2", phone: "not a phone", sent_at: "2026-11-20T10:00:00Z" },
            { id: "", phone: "79161000012" },
            { id: "E4", phone: "79161000013", sent_at: "2026-11-20T10:00:00Z", valid_until: "2026-11-20T09:00:00Z" },
            { id: "E5", phone: "79161000014", sent_at: "2026-11-20T10:00:00Z", account: "bad account!" },
            "not an object",
          ],
        }),
      );
      expect(r.status).toBe(200);
      const body = r.json();
      expect(body.accepted).toBe(1);
      expect(body.rejected.map((x: { index: number; errors: { field: string }[] }) => [x.index, x.errors.map((e) => e.field).sort()])).toEqual([
        [1, ["phone"]],
        [2, ["id", "sent_at"]],
        [3, ["valid_until"]],
        [4, ["account"]],
        [5, ["(root)"]],
      ]);
    });

    it("rejects a menu_id that names no stored menu, and keeps the items around it", async () => {
      const r = await t.request(
        "/v1/messages",
        json({
          messages: [
            { id: "M1", phone: "79161000021", sent_at: "2026-11-20T10:00:00Z", menu_id: "menu_000000000000" },
            { id: "M2", phone: "not a phone", sent_at: "2026-11-20T10:00:00Z", menu_id: "menu_000000000000" },
            { id: "M3", phone: "79161000023", sent_at: "2026-11-20T10:00:00Z" },
          ],
        }),
      );
      expect(r.status).toBe(200);
      expect(r.json()).toEqual({
        accepted: 1,
        rejected: [
          { index: 0, errors: [{ field: "menu_id", message: expect.stringContaining("menu_000000000000") }] },
          { index: 1, errors: [{ field: "phone", message: expect.any(String) }] },
        ],
      });
      expect((await t.request("/v1/messages/M1", get())).status).toBe(404);
      expect((await t.request("/v1/messages/M3", get())).status).toBe(200);
    });

    it("a batch with impossible dates, broken strings and unknown accounts keeps its good items", async () => {
      const r = await t.request(
        "/v1/messages",
        json({
          messages: [
            { id: "Q1", phone: "79161000050", sent_at: "0000-01-01T00:00:00Z" },
            { id: "Q2", phone: "79161000051", sent_at: "9999-12-31T23:00:00-23:59" },
            { id: "Q3\ud800", phone: "79161000052", sent_at: "2026-11-20T10:00:00Z" },
            { id: "Q4", phone: "79161000053", sent_at: "2026-11-20T10:00:00Z", account: "nosuch" },
            { id: "Q5", phone: "79161000054", sent_at: "2026-11-20T10:00:00Z" },
          ],
        }),
      );
      expect(r.status).toBe(200);
      const body = r.json();
      expect(body.accepted).toBe(1);
      expect(body.rejected.map((x: { index: number; errors: { field: string }[] }) => [x.index, x.errors[0]!.field])).toEqual([
        [0, "sent_at"],
        [1, "sent_at"],
        [2, "id"],
        [3, "account"],
      ]);
    });

    it("answers 413 past 10,000 messages, and 400 without a messages array", async () => {
      const many = Array.from({ length: 10_001 }, (_, i) => ({ id: `X${i}`, phone: "79161000020", sent_at: "2026-11-20T10:00:00Z" }));
      const r = await t.request("/v1/messages", json({ messages: many }));
      expect(r.status).toBe(413);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
      const bad = await t.request("/v1/messages", json({ items: [] }));
      expect(bad.status).toBe(400);
      expect(bad.json().errors[0].field).toBe("messages");
    });

    it("answers 413 over API_BODY_LIMIT", async () => {
      const small = await createTestApp({ API_KEYS: ADMIN, API_BODY_LIMIT: "1000" }, { database: t.database });
      try {
        const r = await small.request("/v1/messages", json({ messages: [{ id: "B", phone: "79161000030", sent_at: "2026-11-20T10:00:00Z", campaign: "x".repeat(2000) }] }));
        expect(r.status).toBe(413);
      } finally {
        await small.close();
      }
    });

    it("answers 415 to a body that is not JSON", async () => {
      const r = await t.request("/v1/messages", { method: "POST", headers: bearer(ADMIN, { "content-type": "text/plain" }), body: "id=1" });
      expect(r.status).toBe(415);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
    });
  });

  describe("POST /v1/messages: security", () => {
    it("needs a key, and the write scope", async () => {
      expect((await t.request("/v1/messages", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(401);
      const r = await t.request("/v1/messages", json({ messages: [] }, readKey));
      expect(r.status).toBe(403);
    });
  });

  describe("GET /v1/messages", () => {
    beforeAll(async () => {
      const messages = Array.from({ length: 7 }, (_, i) => ({ id: `L${i}`, phone: `7916200000${i}`, sent_at: `2026-10-01T10:0${i}:00Z`, campaign: i < 4 ? "listed" : "other", sender: "LS" }));
      await t.request("/v1/messages", json({ messages }));
      await t.request("/callbacks/smsc?token=tok1", form({ id: "L1", phone: "79162000001", status: "20", err: "1", ts: String(Date.parse("2026-10-01T10:05:00Z") / 1000) }));
    });
    const range = "from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z";

    it("lists by send time, newest first, with filters", async () => {
      const all = (await t.request(`/v1/messages?${range}`, get(readKey))).json();
      expect(all.items.map((m: { id: string }) => m.id)).toEqual(["L6", "L5", "L4", "L3", "L2", "L1", "L0"]);
      const campaign = (await t.request(`/v1/messages?${range}&campaign=listed`, get(readKey))).json();
      expect(campaign.items).toHaveLength(4);
      const status = (await t.request(`/v1/messages?${range}&status=20`, get(readKey))).json();
      expect(status.items.map((m: { id: string; err: number }) => [m.id, m.err])).toEqual([["L1", 1]]);
      const phone = (await t.request(`/v1/messages?${range}&phone=${encodeURIComponent("+7 916 200-00-03")}`, get(readKey))).json();
      expect(phone.items.map((m: { id: string }) => m.id)).toEqual(["L3"]);
    });

    it("pages with a cursor", async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const r: { items: { id: string }[]; next_cursor: string | null } = (await t.request(`/v1/messages?${range}&limit=3${cursor ? `&cursor=${cursor}` : ""}`, get(readKey))).json();
        seen.push(...r.items.map((m) => m.id));
        cursor = r.next_cursor;
      } while (cursor);
      expect(seen).toEqual(["L6", "L5", "L4", "L3", "L2", "L1", "L0"]);
    });

    it("answers CSV with Accept: text/csv, the next cursor in X-Next-Cursor", async () => {
      const r = await t.request(`/v1/messages?${range}&limit=2`, get(readKey, { accept: "text/csv" }));
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toContain("text/csv");
      const lines = r.text.trim().split("\n");
      expect(lines[0]).toMatch(/^account,id,phone,e164,type,type_name,status,status_name,err,final,/);
      expect(lines).toHaveLength(3);
      expect(lines[1]).toContain(",L6,79162000006,+79162000006,");
      expect(r.headers.get("x-next-cursor")).toBeTruthy();
    });

    it("rejects bad filters with a problem naming them", async () => {
      for (const [q, field] of [["status=abc", "status"], ["phone=abc", "phone"], ["campaign=%00", "campaign"], ["cursor=eyJ0IjoieCIsImlkIjoxfQ", "cursor"]] as const) {
        const r = await t.request(`/v1/messages?${range}&${q}`, get(readKey));
        expect(r.status, q).toBe(400);
        expect(r.json().errors.map((e: { field: string }) => e.field)).toContain(field);
      }
    });
  });

  describe("GET /v1/messages/{id}", () => {
    it("404 for an unknown id, 409 when the id is ambiguous until phone narrows it", async () => {
      expect((await t.request("/v1/messages/NOPE", get(readKey))).status).toBe(404);
      await t.request("/v1/messages", json({ messages: [{ id: "AMB", phone: "79161000040", sent_at: "2026-11-20T10:00:00Z" }, { id: "AMB", phone: "79161000041", sent_at: "2026-11-20T10:00:00Z" }] }));
      const r = await t.request("/v1/messages/AMB", get(readKey));
      expect(r.status).toBe(409);
      expect((await t.request("/v1/messages/AMB?phone=89161000041", get(readKey))).json()).toMatchObject({ phone: "79161000041" });
    });

    it("needs a key", async () => {
      expect((await t.request("/v1/messages/R1")).status).toBe(401);
    });
  });

  describe("GET /v1/stats/delivery: errors and CSV", () => {
    it("names a bad group_by or filter", async () => {
      for (const [q, field] of [["group_by=week", "group_by"], ["operator=MTS", "operator"], ["country=Russia", "country"], ["status=x", "status"]] as const) {
        const r = await t.request(`/v1/stats/delivery?${q}`, get(readKey));
        expect(r.status, q).toBe(400);
        expect(r.json().errors.map((e: { field: string }) => e.field)).toContain(field);
      }
    });

    it("filters by hour and day as well as grouping by them", async () => {
      const q = "from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z&group_by=hour";
      const all = (await t.request(`/v1/stats/delivery?${q}`, get(readKey))).json();
      expect(all.groups).toEqual([expect.objectContaining({ hour: "2026-10-01T10:00:00.000Z", messages: 7 })]);
      const hour = (await t.request(`/v1/stats/delivery?${q}&hour=2026-10-01T10:00:00Z`, get(readKey))).json();
      expect(hour.groups).toEqual(all.groups);
      expect((await t.request(`/v1/stats/delivery?${q}&hour=2026-10-01T11:00:00Z`, get(readKey))).json().groups).toEqual([]);
      const day = (await t.request(`/v1/stats/delivery?from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z&day=2026-10-01`, get(readKey))).json();
      expect(day.groups).toEqual([expect.objectContaining({ messages: 7 })]);
      expect((await t.request(`/v1/stats/delivery?hour=2026-10-01T10:30:00Z`, get(readKey))).json().errors).toEqual([
        { field: "hour", message: "the start of an hour, such as 2026-11-20T10:00:00Z" },
      ]);
      // Not a time at all: named once, for what it is not.
      expect((await t.request(`/v1/stats/delivery?hour=yesterday`, get(readKey))).json().errors).toEqual([
        { field: "hour", message: "must be an RFC 3339 time with an offset, e.g. 2026-11-01T00:00:00Z" },
      ]);
      expect((await t.request(`/v1/stats/delivery?day=2026-13-01`, get(readKey))).status).toBe(400);
      // A number that is not one: said plainly, not in the validator's terms ("received NaN").
      for (const status of ["delivered", "1e999"]) {
        expect((await t.request(`/v1/stats/delivery?status=${status}`, get(readKey))).json().errors).toEqual([{ field: "status", message: "must be a number" }]);
      }
    });

    it("answers CSV with one row per group", async () => {
      const r = await t.request("/v1/stats/delivery?from=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z&group_by=campaign", get(readKey, { accept: "text/csv" }));
      expect(r.headers.get("content-type")).toContain("text/csv");
      const [header, ...rows] = r.text.trim().split("\n");
      expect(header).toBe("campaign,messages,delivered,expired,failed_permanent,failed_temporary,failed_other,pending,missing_receipts,delivery_rate,latency_p50_s,latency_p90_s,latency_p99_s,latency_from_registered,cost");
      expect(rows.sort()).toEqual(["listed,4,0,0,1,0,0,3,0,0,,,,0,0.0000", "other,3,0,0,0,0,0,3,0,,,,,0,0.0000"]);
    });

    it("needs a key", async () => {
      expect((await t.request("/v1/stats/delivery")).status).toBe(401);
    });
  });
});
