import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, form, type TestApp } from "../helpers/app.js";
import { makeKey } from "../helpers/keys.js";

const KEY = "test-key-callbacks-0123456789";
const auth = { authorization: `Bearer ${KEY}` };

describe("GET /v1/callbacks", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ API_KEYS: KEY, CALLBACK_ACCOUNTS: "shop:tok-shop,crm:tok-crm" });
    // 5 usable status callbacks and 2 unusable ones, in two accounts.
    for (let i = 1; i <= 5; i++) {
      const r = await t.request(`/callbacks/smsc?token=tok-shop`, form({ id: `L${i}`, phone: "79161234567", status: "1", ts: String(1717585400 + i) }));
      expect(r.status).toBe(200);
    }
    expect((await t.request(`/callbacks/smsc?token=tok-crm`, form({ phone: "79161234567", status: "1" }))).status).toBe(200); // no id
    expect((await t.request(`/callbacks/smsc?token=tok-crm`, form({ foo: "bar" }))).status).toBe(200); // unclassified
  });
  afterAll(() => t.close());

  describe("happy path", () => {
    it("lists newest first with every field as received", async () => {
      const r = await t.request("/v1/callbacks?limit=1000", { headers: auth });
      expect(r.status).toBe(200);
      const body = r.json();
      expect(body.items).toHaveLength(7);
      const times = body.items.map((i: { received_at: string; id: number }) => [i.received_at, i.id]);
      expect([...times].sort().reverse()).toEqual(times);
      const unclassified = body.items.find((i: { kind: string }) => i.kind === "unknown");
      expect(unclassified).toMatchObject({ account: "crm", error: "unclassified", fields: { foo: "bar" }, method: "POST", route: "/callbacks/smsc" });
      expect(body.next_cursor).toBeNull();
    });

    it("pages with an opaque cursor, without gaps or repeats", async () => {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor ? `&cursor=${cursor}` : "";
        const r = await t.request(`/v1/callbacks?limit=3${q}`, { headers: auth });
        expect(r.status).toBe(200);
        const body = r.json();
        expect(body.items.length).toBeLessThanOrEqual(3);
        seen.push(...body.items.map((i: { id: number }) => i.id));
        cursor = body.next_cursor;
      } while (cursor);
      expect(seen).toHaveLength(7);
      expect(new Set(seen).size).toBe(7);
    });

    it("filters by kind, account and error", async () => {
      const byAccount = (await t.request("/v1/callbacks?account=shop", { headers: auth })).json();
      expect(byAccount.items).toHaveLength(5);
      const errors = (await t.request("/v1/callbacks?error=true", { headers: auth })).json();
      expect(errors.items.map((i: { error: string }) => i.error).sort()).toEqual(["missing_id", "unclassified"]);
      const usable = (await t.request("/v1/callbacks?error=false", { headers: auth })).json();
      expect(usable.items).toHaveLength(5);
      const code = (await t.request("/v1/callbacks?error=missing_id", { headers: auth })).json();
      expect(code.items).toHaveLength(1);
      const kind = (await t.request("/v1/callbacks?kind=unknown", { headers: auth })).json();
      expect(kind.items).toHaveLength(1);
    });

    it("takes a time range: from inclusive, to exclusive", async () => {
      const all = (await t.request("/v1/callbacks?limit=1000", { headers: auth })).json().items as { received_at: string }[];
      const oldest = all[all.length - 1]!.received_at;
      const r = await t.request(`/v1/callbacks?to=${encodeURIComponent(oldest)}`, { headers: auth });
      expect(r.json().items).toHaveLength(0);
      const r2 = await t.request(`/v1/callbacks?from=${encodeURIComponent(oldest)}&limit=1000`, { headers: auth });
      expect(r2.json().items).toHaveLength(7);
      const future = await t.request("/v1/callbacks?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z", { headers: auth });
      expect(future.json().items).toHaveLength(0);
    });
  });

  describe("errors", () => {
    it.each([
      ["limit=0", "limit"],
      ["limit=1001", "limit"],
      ["kind=bogus", "kind"],
      ["from=yesterday", "from"],
      ["from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from"],
      ["cursor=not-a-cursor", "cursor"],
    ])("%s is a problem naming %s", async (query, field) => {
      const r = await t.request(`/v1/callbacks?${query}`, { headers: auth });
      expect(r.status).toBe(400);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
      const body = r.json();
      expect(body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(body).toMatchObject({ status: 400, instance: "/v1/callbacks" });
      expect(typeof body.request_id).toBe("string");
      expect(r.text).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    });

    it.each([
      ["yesterday", "must be an RFC 3339 time with an offset, e.g. 2026-11-01T00:00:00Z"],
      ["2026-13-01T00:00:00Z", "must be an RFC 3339 time with an offset, e.g. 2026-11-01T00:00:00Z"],
      ["1969-12-31", "must be an RFC 3339 time with an offset, e.g. 2026-11-01T00:00:00Z"],
      ["0001-01-01T00:00:00Z", "must be a time between the years 1970 and 9999"],
    ])("from=%s is named once, with what a time must be", async (from, message) => {
      const r = await t.request(`/v1/callbacks?from=${from}`, { headers: auth });
      expect(r.status).toBe(400);
      expect(r.json().errors).toEqual([{ field: "from", message }]);
    });

    it("answers an unknown /v1 route with a problem", async () => {
      const r = await t.request("/v1/nothing-here", { headers: auth });
      expect(r.status).toBe(404);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
    });
  });

  describe("security", () => {
    it("needs a key", async () => {
      const r = await t.request("/v1/callbacks");
      expect(r.status).toBe(401);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
      expect(r.headers.get("www-authenticate")).toContain("Bearer");
    });

    it("refuses a wrong key", async () => {
      const r = await t.request("/v1/callbacks", { headers: { authorization: "Bearer wrong" } });
      expect(r.status).toBe(401);
    });

    it("masks the IMSI and withholds raw bodies below the admin scope", async () => {
      await t.request("/callbacks/smsc?token=tok-shop", form({ id: "IMSI1", phone: "79161234567", status: "1", err: "0", type: "4", imsi: "250011234567890", mcc: "250", mnc: "01" }));
      const read = await makeKey(t.database.db, "read");
      const asRead = (await t.request("/v1/callbacks?kind=hlr", { headers: { authorization: `Bearer ${read.key}` } })).json();
      expect(asRead.items[0].fields.imsi).toBe("25001**********");
      expect(JSON.stringify(asRead)).not.toContain("250011234567890");
      const asAdmin = (await t.request("/v1/callbacks?kind=hlr", { headers: auth })).json();
      expect(asAdmin.items[0].fields.imsi).toBe("250011234567890");
    });

    it("never shows the callback token in what it lists", async () => {
      const r = await t.request("/v1/callbacks?limit=1000", { headers: auth });
      expect(r.text).not.toContain("tok-shop");
      expect(r.text).not.toContain("tok-crm");
    });
  });
});

describe("GET /v1/callbacks without API_KEYS (loopback use)", () => {
  it("is open", async () => {
    const t = await createTestApp();
    try {
      const r = await t.request("/v1/callbacks");
      expect(r.status).toBe(200);
      expect(r.json()).toEqual({ items: [], next_cursor: null });
    } finally {
      await t.close();
    }
  });
});
