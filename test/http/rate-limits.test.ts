// Every /v1 route, as documented: answers carry the RateLimit headers, and past the burst the answer is 429 with
// Retry-After. Each route gets a key of its own (buckets are per key).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../helpers/app.js";
import { bearer, makeKey } from "../helpers/keys.js";

const T0 = Date.parse("2026-11-23T10:00:00Z");

describe("rate limits on every /v1 route", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ API_RATE_PER_SEC: "1", API_RATE_BURST: "2" }, { clock: () => new Date(T0) });
  });
  afterAll(() => t.close());

  const routes = () =>
    t.app.openAPIRegistry.definitions
      .flatMap((d) => (d.type === "route" ? [d.route as unknown as { method: string; path: string }] : []))
      .filter((r) => r.path.startsWith("/v1/"))
      .map((r) => ({ method: r.method.toUpperCase(), path: r.path.replace(/\{[^}]+\}/g, "79161234567") }));

  it("covers the routes the API documents", () => {
    expect(routes().length).toBeGreaterThanOrEqual(12);
  });

  it("answers each route within the burst, then 429 with Retry-After and the headers", async () => {
    for (const route of routes()) {
      const { key } = await makeKey(t.database.db, "admin", { name: `rl-${route.method}-${route.path}` });
      const init = () => ({
        method: route.method,
        headers: bearer(key, route.method === "POST" ? { "content-type": "application/json" } : {}),
        ...(route.method === "POST" ? { body: "{}" } : {}),
      });
      for (let i = 0; i < 2; i++) {
        const r = await t.app.request(route.path, init());
        expect(r.status, `${route.method} ${route.path}`).not.toBe(429);
        expect(r.headers.get("ratelimit-limit"), `${route.method} ${route.path}`).toBe("2");
        expect(r.headers.get("ratelimit-remaining")).toBe(String(1 - i));
      }
      const limited = await t.app.request(route.path, init());
      expect(limited.status, `${route.method} ${route.path}`).toBe(429);
      expect(limited.headers.get("content-type")).toContain("application/problem+json");
      expect(limited.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
      expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    }
  });
});
