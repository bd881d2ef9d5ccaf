// GET /v1/stats/errors: messages per err code from the rollups, with meaning, permanence and verdict class.
// The messages are made by callbacks sent to the real callback route. Expected meanings and classes come from the
// protocol reference (section 6) and issue 3's verdict rules.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, form, type TestApp } from "../helpers/app.js";
import { CALLBACK, nextId, nextPhone } from "../fixtures/callbacks/http.js";

const KEY = "test-key-stats-errors-0123456789";
const auth = { authorization: `Bearer ${KEY}` };

/** 2024-03-01T10:00:00Z; the app's clock is four days later, so the default range (7 days) holds everything. */
const T0 = Date.UTC(2024, 2, 1, 10) / 1000;
const NOW = new Date((T0 + 4 * 86400) * 1000);
const ts = (minutes: number) => String(T0 + minutes * 60);

let t: TestApp;

async function send(fields: Record<string, string>): Promise<void> {
  const res = await t.request(CALLBACK, form(fields));
  expect([res.status, res.text]).toEqual([200, "OK"]);
}

async function message(status: number, err: number, minutes: number, type: number | null = 0): Promise<{ id: string; phone: string }> {
  const id = nextId();
  const phone = nextPhone();
  await send({ id, phone, status: String(status), err: String(err), ts: ts(minutes), ...(type === null ? {} : { type: String(type) }) });
  return { id, phone };
}

async function stats(query = "") {
  const r = await t.request(`/v1/stats/errors${query}`, { headers: auth });
  expect(r.status, r.text).toBe(200);
  return r.json() as { from: string; to: string; items: { err: number; count: number; meaning: string | null; permanence: string; verdict_class: string | null }[] };
}

const counts = (body: Awaited<ReturnType<typeof stats>>) => Object.fromEntries(body.items.map((i) => [i.err, i.count]));

beforeAll(async () => {
  t = await createTestApp({ API_KEYS: KEY, API_RATE_PER_SEC: "100000", API_RATE_BURST: "100000" }, { clock: () => NOW });
  // Hour 10:00 — SMS outcomes.
  for (let i = 0; i < 3; i++) await message(1, 0, i);
  // A message that was pending and then delivered counts once, in its current state.
  const moved = await message(0, 0, 5);
  await send({ ...moved, status: "1", err: "0", ts: ts(6), type: "0" });
  await message(20, 1, 10);
  await message(20, 1, 11, null);
  await message(20, 13, 12);
  await message(3, 6, 13);
  await message(23, 254, 14);
  await message(20, 7, 15); // a code not in SMSC's table
  // Hour 11:00.
  await message(20, 1, 70);
  // HLR and ping requests: left out unless asked for.
  await message(1, 6, 20, 4);
  await message(1, 1, 21, 4);
  await message(1, 0, 22, 5);
});

afterAll(() => t?.close());

describe("GET /v1/stats/errors", () => {
  describe("happy path", () => {
    it("each err code seen, most frequent first, with meaning, permanence and verdict class", async () => {
      const body = await stats();
      expect(counts(body)).toEqual({ 0: 4, 1: 3, 6: 1, 7: 1, 13: 1, 254: 1 });
      expect(body.items.slice(0, 2).map((i) => i.err)).toEqual([0, 1]);
      const by = Object.fromEntries(body.items.map((i) => [i.err, i]));
      expect(by[1]).toMatchObject({ permanence: "permanent", verdict_class: "invalid" });
      expect(by[1]!.meaning).toMatch(/not exist/i);
      expect(by[13]).toMatchObject({ permanence: "permanent", verdict_class: "barred_or_no_sms" });
      expect(by[13]!.meaning).toMatch(/blocked/i);
      expect(by[6]).toMatchObject({ permanence: "temporary", verdict_class: "valid_absent" });
      expect(by[6]!.meaning).toMatch(/absent|not in network/i);
      expect(by[254]).toMatchObject({ permanence: "other", verdict_class: null });
      expect(by[254]!.meaning).toMatch(/sender/i);
      expect(by[7]).toEqual({ err: 7, count: 1, meaning: null, permanence: "other", verdict_class: null });
      expect(by[0]).toMatchObject({ verdict_class: null });
    });

    it("the default range is the last 7 days", async () => {
      const body = await stats();
      expect(body.to).toBe(NOW.toISOString());
      expect(body.from).toBe(new Date(NOW.getTime() - 7 * 86400_000).toISOString());
    });

    it("from is inclusive and to exclusive, on the cells' hours", async () => {
      const h10 = new Date(T0 * 1000).toISOString();
      const h11 = new Date((T0 + 3600) * 1000).toISOString();
      const h12 = new Date((T0 + 7200) * 1000).toISOString();
      expect(counts(await stats(`?from=${h10}&to=${h11}`))).toEqual({ 0: 4, 1: 2, 6: 1, 7: 1, 13: 1, 254: 1 });
      expect(counts(await stats(`?from=${h11}&to=${h12}`))).toEqual({ 1: 1 });
      expect((await stats(`?from=${h10}&to=${h10}`)).items).toEqual([]);
      expect((await stats("?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z")).items).toEqual([]);
    });

    it("HLR (4) and ping (5) requests count only when type asks for them", async () => {
      expect(counts(await stats("?type=4"))).toEqual({ 1: 1, 6: 1 });
      expect(counts(await stats("?type=4,5"))).toEqual({ 0: 1, 1: 1, 6: 1 });
      // Type 0 includes messages whose callbacks named no type.
      expect(counts(await stats("?type=0"))).toEqual({ 0: 4, 1: 3, 6: 1, 7: 1, 13: 1, 254: 1 });
      expect((await stats("?type=7")).items).toEqual([]);
    });
  });

  describe("errors", () => {
    it.each([
      ["type=abc", "type"],
      ["type=4,", "type"],
      ["from=yesterday", "from"],
      ["from=2024-03-02T00:00:00Z&to=2024-03-01T00:00:00Z", "from"],
    ])("%s is a 400 naming %s", async (query, field) => {
      const r = await t.request(`/v1/stats/errors?${query}`, { headers: auth });
      expect(r.status).toBe(400);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
      expect(r.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    });
  });

  describe("security", () => {
    it("needs a key", async () => {
      const r = await t.request("/v1/stats/errors");
      expect(r.status).toBe(401);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
    });

    it("refuses a wrong key", async () => {
      expect((await t.request("/v1/stats/errors", { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    });
  });
});
