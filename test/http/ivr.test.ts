// Voice menus over HTTP: validate, store, read, and the funnel of calls whose IVR events arrive through the real
// callback route (/callbacks/smsc/ivr, GET, SMSC's `DD.MM.YYYY hh:mm:ss` Moscow times).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../helpers/app.js";
import { bearer, makeKey } from "../helpers/keys.js";
import { cp1251, getUrl } from "../fixtures/callbacks/http.js";
import { SMSC_EXAMPLE_TEXT } from "../fixtures/ivr/smsc-example.js";

const ADMIN = "test-admin-key-ivr-0123456789abcdef";
/** The suite's clock: the default funnel range is the 7 days before it. */
const NOW = new Date("2026-03-03T00:00:00Z");

const post = (body: string | Uint8Array, contentType: string, key: string | null = ADMIN): RequestInit => ({
  method: "POST",
  headers: key === null ? { "content-type": contentType } : bearer(key, { "content-type": contentType }),
  body: body as unknown as NonNullable<RequestInit["body"]>,
});
const plain = (text: string, key: string | null = ADMIN) => post(text, "text/plain; charset=utf-8", key);
const json = (value: unknown, key: string | null = ADMIN) => post(JSON.stringify(value), "application/json", key);
const get = (key: string | null = ADMIN): RequestInit => ({ headers: key === null ? {} : bearer(key) });

const SMALL_MENU = "Привет!\n{menu: Нажмите 1 или 2\n1: url\n1: Продажи\n11: url\n12: call:79990000001 wait=20 err:busy\n2: url\nbusy: Оператор занят}\nПока!";

describe("IVR menus", () => {
  let t: TestApp;
  let readKey: string;
  beforeAll(async () => {
    t = await createTestApp({ API_KEYS: ADMIN, API_RATE_BURST: "100000" }, { clock: () => NOW });
    readKey = (await makeKey(t.database.db, "read")).key;
  });
  afterAll(() => t.close());

  describe("POST /v1/ivr/menus/validate: happy path", () => {
    it("answers the tree of SMSC's documented example, sent as text/plain", async () => {
      const r = await t.request("/v1/ivr/menus/validate", plain(SMSC_EXAMPLE_TEXT));
      expect(r.status).toBe(200);
      const body = r.json();
      expect(body.ok).toBe(true);
      expect(body.menu).toMatchObject({ start_text: "Здравствуйте!", end_text: "Всего вам доброго!" });
      expect(body.menu.items.map((i: { path: string }) => i.path)).toEqual(["1", "2", "3", "4", "5", "6", "7"]);
      expect(body.menu.items[0].items.map((i: { path: string }) => i.path)).toEqual(["11", "12", "13"]);
      expect(body.menu.items[4].actions).toEqual([
        { type: "url", address: null },
        { type: "call", phones: ["79999999999", "79999999998"], wait: 10, ok: "end", err: "6", record: false },
      ]);
      expect(body.menu.special_keys.map((k: { key: string }) => k.key)).toEqual(["*", "#", "0"]);
      expect(body.menu.labels.map((l: { name: string }) => l.name)).toEqual(["err", "callerr"]);
    });

    it("takes JSON {text}, and text/plain in windows-1251, with the same answer", async () => {
      const asPlain = (await t.request("/v1/ivr/menus/validate", plain(SMALL_MENU))).json();
      const asJson = await t.request("/v1/ivr/menus/validate", json({ text: SMALL_MENU }));
      expect(asJson.status).toBe(200);
      expect(asJson.json()).toEqual(asPlain);
      const as1251 = await t.request("/v1/ivr/menus/validate", post(cp1251(SMALL_MENU), "text/plain; charset=windows-1251"));
      expect(as1251.status).toBe(200);
      expect(as1251.json()).toEqual(asPlain);
      expect(asPlain.menu.menu_text).toBe("Нажмите 1 или 2");
    });
  });

  describe("POST /v1/ivr/menus/validate: errors", () => {
    it("answers 422 problem+json listing every problem with its code, line and column", async () => {
      const text = "{menu: Выбор\n1: call:79990000001 wait=500 err:nowhere\n31: x\n10: y}";
      for (const init of [plain(text), json({ text })]) {
        const r = await t.request("/v1/ivr/menus/validate", init);
        expect(r.status).toBe(422);
        expect(r.headers.get("content-type")).toBe("application/problem+json");
        const body = r.json();
        expect(body).toMatchObject({ type: "https://smsc-hub.dev/problems/invalid-voice-menu", title: "Invalid voice menu", status: 422 });
        expect(body.detail).toMatch(/^4 problems; the first, at line 2, column 26: /);
        expect(body.errors.map(({ code, line, column }: { code: string; line: number; column: number }) => ({ code, line, column }))).toEqual([
          { code: "wait_out_of_range", line: 2, column: 26 },
          { code: "undefined_label", line: 2, column: 34 },
          { code: "orphan_subitem", line: 3, column: 1 },
          { code: "key_out_of_range", line: 4, column: 1 },
        ]);
        for (const e of body.errors) expect(e).toMatchObject({ field: "text", message: expect.any(String) });
      }
    });

    it("answers 422 message_too_long past 1000 characters", async () => {
      const r = await t.request("/v1/ivr/menus/validate", plain(`{menu: a\n1: ${"б".repeat(1000)}}`));
      expect(r.status).toBe(422);
      expect(r.json().errors).toEqual([expect.objectContaining({ code: "message_too_long", line: 2, column: 992 })]);
    });

    it("answers 415 to other media types, and 400 to a JSON body without text", async () => {
      for (const type of ["application/xml", "application/x-www-form-urlencoded", "text/csv"]) {
        const r = await t.request("/v1/ivr/menus/validate", post(SMALL_MENU, type));
        expect(r.status, type).toBe(415);
        expect(r.headers.get("content-type")).toBe("application/problem+json");
      }
      expect((await t.request("/v1/ivr/menus/validate", post(SMALL_MENU, "text/plain; charset=x-nonsense"))).status).toBe(415);
      const noText = await t.request("/v1/ivr/menus/validate", json({ txt: SMALL_MENU }));
      expect(noText.status).toBe(400);
      expect(noText.json().errors).toEqual([expect.objectContaining({ field: "text" })]);
      expect((await t.request("/v1/ivr/menus/validate", post("{not json", "application/json"))).status).toBe(400);
      expect((await t.request("/v1/ivr/menus/validate", plain("{menu: a\n1: x\u0000}"))).status).toBe(400);
      expect((await t.request("/v1/ivr/menus/validate", post(new Uint8Array([0xff, 0xfe, 0x7b]), "text/plain"))).status).toBe(400);
    });
  });

  describe("POST /v1/ivr/menus and GET /v1/ivr/menus/{id}", () => {
    it("stores a valid menu: 201 with Location, then GET answers it", async () => {
      const r = await t.request("/v1/ivr/menus", json({ text: SMSC_EXAMPLE_TEXT, name: "SMSC example" }));
      expect(r.status).toBe(201);
      const created = r.json();
      expect(created.id).toMatch(/^menu_[0-9a-f]{12}$/);
      expect(r.headers.get("location")).toBe(`/v1/ivr/menus/${created.id}`);
      expect(created).toMatchObject({ name: "SMSC example", created_at: NOW.toISOString() });
      const validated = (await t.request("/v1/ivr/menus/validate", plain(SMSC_EXAMPLE_TEXT))).json();
      expect(created.menu).toEqual(validated.menu);

      const got = await t.request(r.headers.get("location")!, get(readKey));
      expect(got.status).toBe(200);
      expect(got.json()).toEqual({ id: created.id, name: "SMSC example", text: SMSC_EXAMPLE_TEXT, created_at: NOW.toISOString(), menu: validated.menu });
    });

    it("takes text/plain with the name in the query; each store is a new menu", async () => {
      const a = await t.request(`/v1/ivr/menus?name=${encodeURIComponent("Продажи")}`, plain(SMALL_MENU));
      const b = await t.request("/v1/ivr/menus", plain(SMALL_MENU));
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.json().name).toBe("Продажи");
      expect(b.json().name).toBeNull();
      expect(a.json().id).not.toBe(b.json().id);
    });

    it("refuses an invalid menu with 422 and stores nothing", async () => {
      const before = await t.database.db.query("SELECT count(*)::int AS n FROM ivr_menus");
      const r = await t.request("/v1/ivr/menus", json({ text: "{menu: a\n2:}", name: "broken" }));
      expect(r.status).toBe(422);
      expect(r.json().errors).toEqual([expect.objectContaining({ code: "empty_item", line: 2, column: 1 })]);
      expect(await t.database.db.query("SELECT count(*)::int AS n FROM ivr_menus")).toEqual(before);
      expect((await t.request("/v1/ivr/menus", post(SMALL_MENU, "application/xml"))).status).toBe(415);
    });

    it("answers 404 for an unknown menu", async () => {
      for (const path of ["/v1/ivr/menus/menu_000000000000", "/v1/ivr/menus/menu_000000000000/funnel"]) {
        const r = await t.request(path, get());
        expect(r.status, path).toBe(404);
        expect(r.headers.get("content-type")).toBe("application/problem+json");
      }
    });
  });

  describe("security", () => {
    it("a read key validates and reads, but cannot store (403)", async () => {
      expect((await t.request("/v1/ivr/menus/validate", plain(SMALL_MENU, readKey))).status).toBe(200);
      const r = await t.request("/v1/ivr/menus", plain(SMALL_MENU, readKey));
      expect(r.status).toBe(403);
      expect(r.json().detail).toMatch(/write/);
    });

    it("no key: 401 on every route", async () => {
      const id = (await t.request("/v1/ivr/menus", plain(SMALL_MENU))).json().id as string;
      const answers = await Promise.all([
        t.request("/v1/ivr/menus/validate", plain(SMALL_MENU, null)),
        t.request("/v1/ivr/menus", plain(SMALL_MENU, null)),
        t.request(`/v1/ivr/menus/${id}`, get(null)),
        t.request(`/v1/ivr/menus/${id}/funnel`, get(null)),
      ]);
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401]);
      expect((await t.request(`/v1/ivr/menus/${id}`, get("not-a-key"))).status).toBe(401);
    });
  });

  describe("GET /v1/ivr/menus/{id}/funnel", () => {
    // Nodes: "" (the menu), 1, 11, 12, 2.
    const FUNNEL_MENU = "Здравствуйте!\n{menu: 1 продажи, 2 поддержка\n1: url\n1: Продажи: 1 тарифы, 2 оператор\n11: url\n11: Тарифы\n12: url\n12: call:79990000001 wait=20 err:busy\n2: url\n2: Поддержка\nbusy: Оператор занят}\nДо свидания!";
    let menuId: string;
    const ivr = async (fields: Record<string, string>) => {
      const r = await t.request(getUrl("/callbacks/smsc/ivr", fields));
      expect(r.status).toBe(200);
      expect(r.text).toBe("OK");
    };
    /** An IVR event for message `id` at 01.03.2026 `hms` Moscow time (UTC+3). */
    const event = (id: string, phone: string | null, menu: string, hms: string, duration?: number) =>
      ivr({ id, ...(phone === null ? {} : { phone }), menu, time: `01.03.2026 ${hms}`, ...(duration === undefined ? {} : { duration: String(duration) }) });
    const phone = (n: number) => `791600000${String(n).padStart(2, "0")}`;

    beforeAll(async () => {
      const stored = await t.request("/v1/ivr/menus", json({ text: FUNNEL_MENU, name: "funnel" }));
      menuId = stored.json().id;
      const other = await t.request("/v1/ivr/menus", json({ text: FUNNEL_MENU, name: "another" }));
      const otherMenuId: string = other.json().id;
      const message = (n: number, sentAt: string, menu: string | null = menuId) => ({
        id: `F${n}`,
        phone: phone(n),
        sent_at: sentAt,
        ...(menu === null ? {} : { menu_id: menu }),
      });
      const registered = await t.request(
        "/v1/messages",
        json({
          messages: [
            ...[1, 2, 3, 4, 5, 6, 7, 11, 12].map((n) => message(n, "2026-03-01T09:00:00Z")),
            message(8, "2026-02-27T09:00:00Z"), // outside the explicit range, inside the default one
            message(9, "2026-03-01T09:00:00Z", otherMenuId), // another menu
          ],
        }),
      );
      expect(registered.json()).toEqual({ accepted: 11, rejected: [] });

      // F1: 1 → 12, 15 s apart, no duration: ends at 12 after 15 s.
      await event("F1", phone(1), "1", "12:00:05");
      await event("F1", phone(1), "12", "12:00:20");
      // The same SMSC id to another phone is another message: not F1's.
      await event("F1", phone(99), "2", "12:00:30");
      // F2: 1 → 1-1 (path with a separator) with duration 40: ends at 11, 40 s.
      await event("F2", phone(2), "1", "12:01:00");
      await event("F2", phone(2), "1-1", "12:01:30", 40);
      // F3: 1 → 1.2 → 1: ends at 1 after 50 s.
      await event("F3", phone(3), "1", "12:02:00");
      await event("F3", phone(3), "1.2", "12:02:10");
      await event("F3", phone(3), "1", "12:02:50");
      // F4: 2 (duration 12), the same event again (SMSC's retry: one event), then 2 (duration 25): ends at 2, 25 s.
      await event("F4", phone(4), "2", "12:03:00", 12);
      await event("F4", phone(4), "2", "12:03:00", 12);
      await event("F4", phone(4), "2", "12:03:12", 25);
      // F5: straight to 11, one event: ends at 11, 0 s.
      await event("F5", phone(5), "11", "12:04:00");
      // F6: 1, then 3, which the menu does not have: unmatched.
      await event("F6", phone(6), "1", "12:05:00");
      await event("F6", phone(6), "3", "12:05:10");
      // F7: no events.
      // F11: one event without a phone, as the key sequence 1 # 2 (visits 1, the top, 2): ends at 2, 0 s.
      await event("F11", null, "1#2", "12:06:00");
      // F12: 1 → 11, 100 s apart: ends at 11 after 100 s.
      await event("F12", phone(12), "1", "12:07:00");
      await event("F12", phone(12), "11", "12:08:40");
      // F8 (outside the range) and F9 (another menu) have events too.
      await event("F8", phone(8), "1", "12:09:00");
      await event("F9", phone(9), "2", "12:09:00");
    });

    it("checks every figure against the calls worked out by hand", async () => {
      const r = await t.request(`/v1/ivr/menus/${menuId}/funnel?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z`, get(readKey));
      expect(r.status).toBe(200);
      // Calls in range: F1-F7, F11, F12 = 9; with events: all but F7 = 8; unmatched: F6.
      // Matched: F1 (ends 12, 15 s), F2 (11, 40 s), F3 (1, 50 s), F4 (2, 25 s), F5 (11, 0 s), F11 (2, 0 s), F12 (11, 100 s).
      // Reached: top 7; 1: F1 F2 F3 F5 F11 F12 = 6; 11: F2 F5 F12 = 3; 12: F1 F3 = 2; 2: F4 F11 = 2.
      // Times at 11: [0, 40, 100] → median 40, p90 = 40 + 0.8 × 60 = 88; at 2: [0, 25] → 12.5 and 0 + 0.9 × 25 = 22.5.
      expect(r.json()).toEqual({
        menu_id: menuId,
        from: "2026-03-01T00:00:00.000Z",
        to: "2026-03-02T00:00:00.000Z",
        calls: 9,
        calls_with_events: 8,
        unmatched_calls: 1,
        nodes: [
          { path: "", reached: 7, share_of_parent: null, next_keys: { "1": 6, "2": 2 }, ended_here: 0, time_in_menu_s: { median: null, p90: null } },
          { path: "1", reached: 6, share_of_parent: 0.8571, next_keys: { "1": 3, "2": 2 }, ended_here: 1, time_in_menu_s: { median: 50, p90: 50 } },
          { path: "11", reached: 3, share_of_parent: 0.5, next_keys: {}, ended_here: 3, time_in_menu_s: { median: 40, p90: 88 } },
          { path: "12", reached: 2, share_of_parent: 0.3333, next_keys: {}, ended_here: 1, time_in_menu_s: { median: 15, p90: 15 } },
          { path: "2", reached: 2, share_of_parent: 0.2857, next_keys: {}, ended_here: 2, time_in_menu_s: { median: 12.5, p90: 22.5 } },
        ],
      });
    });

    it("defaults to the 7 days before now, on the messages' send time", async () => {
      const r = await t.request(`/v1/ivr/menus/${menuId}/funnel`, get());
      expect(r.status).toBe(200);
      // F8 (27 February) is now in range: 10 calls, 9 with events; it reached 1 and ended there after 0 s.
      expect(r.json()).toMatchObject({ from: "2026-02-24T00:00:00.000Z", to: NOW.toISOString(), calls: 10, calls_with_events: 9, unmatched_calls: 1 });
      expect(r.json().nodes[1]).toMatchObject({ path: "1", reached: 7, ended_here: 2, time_in_menu_s: { median: 25, p90: 45 } });
    });

    it("a range with no calls has zero figures; a bad range is 400", async () => {
      const empty = await t.request(`/v1/ivr/menus/${menuId}/funnel?from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z`, get());
      expect(empty.json()).toMatchObject({ calls: 0, calls_with_events: 0, unmatched_calls: 0 });
      expect(empty.json().nodes.every((n: { reached: number; share_of_parent: null }) => n.reached === 0 && n.share_of_parent === null)).toBe(true);
      expect((await t.request(`/v1/ivr/menus/${menuId}/funnel?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z`, get())).status).toBe(400);
      expect((await t.request(`/v1/ivr/menus/${menuId}/funnel?from=yesterday`, get())).status).toBe(400);
    });
  });
});
