// /v1 API keys, scopes and rate limits against a real database: keys made in the api_keys table the way
// `keys create` makes them, API_KEYS, the open loopback mode, the per-caller token buckets (driven by an injected
// clock, never by sleeping), and the start-up refusal of an open API beyond loopback.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { API_KEY_CACHE_TTL_MS, hashApiKey, type Scope } from "../../src/api/auth.js";
import { RateLimiter } from "../../src/api/rate-limit.js";
import { generateApiKey } from "../../src/cli/keys-command.js";
import { parseConfig } from "../../src/config.js";
import { createDb, type Database } from "../../src/db/client.js";
import { migrate } from "../../src/db/migrate.js";
import { insertApiKey, revokeApiKey } from "../../src/db/queries/api-keys.js";
import { createLogger } from "../../src/http/logger.js";
import { checkExposure, startService, StartupRefusedError } from "../../src/server.js";
import { createTestApp, type TestApp, type TestResponse } from "../helpers/app.js";
import { createServerDatabase, serverUrl } from "../helpers/db.js";
import { makeKey as makeTableKey } from "../helpers/keys.js";

const T0 = Date.parse("2026-06-01T12:00:00Z");

/** A clock the test moves by hand. */
function manualClock() {
  let now = T0;
  return { clock: () => new Date(now), advance: (ms: number) => void (now += ms) };
}

/** Makes a key in the table as `keys create` does; returns the secret and its id. */
const makeKey = (db: Database, scope: Scope, name = `test-${scope}`) => makeTableKey(db, scope, { name, createdAt: new Date(T0) });

const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
const receipts = (key: string): RequestInit => ({
  method: "POST",
  headers: { authorization: `Bearer ${key}`, "content-type": "text/plain" },
  body: "",
});

function expectProblem(r: TestResponse, status: number) {
  expect(r.status).toBe(status);
  expect(r.headers.get("content-type")).toContain("application/problem+json");
  expect(r.json()).toMatchObject({ status, instance: expect.any(String) });
}

const rate = (r: TestResponse) => ({
  limit: r.headers.get("ratelimit-limit"),
  remaining: r.headers.get("ratelimit-remaining"),
  reset: r.headers.get("ratelimit-reset"),
});

describe("/v1 API keys from the api_keys table", () => {
  let t: TestApp;
  const time = manualClock();
  const keys: Record<Scope, { id: string; key: string }> = {} as never;
  beforeAll(async () => {
    t = await createTestApp({ API_RATE_PER_SEC: "1000", API_RATE_BURST: "1000" }, { clock: time.clock });
    for (const scope of ["read", "write", "admin"] as const) keys[scope] = await makeKey(t.database.db, scope);
  });
  afterAll(() => t.close());

  describe("no key", () => {
    it("is 401 problem+json with WWW-Authenticate", async () => {
      const r = await t.request("/v1/callbacks");
      expectProblem(r, 401);
      expect(r.headers.get("www-authenticate")).toBe('Bearer realm="smsc-hub"');
    });

    it("is 401 for another scheme than Bearer", async () => {
      const r = await t.request("/v1/callbacks", { headers: { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` } });
      expectProblem(r, 401);
    });
  });

  describe("wrong key", () => {
    it("is 401 with error=invalid_token", async () => {
      const r = await t.request("/v1/callbacks", bearer(`${keys.read.key}x`));
      expectProblem(r, 401);
      expect(r.headers.get("www-authenticate")).toBe('Bearer realm="smsc-hub", error="invalid_token"');
    });

    it("is 401 for the key's hash or id given as the key", async () => {
      expectProblem(await t.request("/v1/callbacks", bearer(hashApiKey(keys.read.key))), 401);
      expectProblem(await t.request("/v1/callbacks", bearer(keys.read.id)), 401);
    });
  });

  describe("revoked key", () => {
    it("is refused once the cache entry expires (within API_KEY_CACHE_TTL_MS)", async () => {
      const k = await makeKey(t.database.db, "read", "to-revoke");
      expect((await t.request("/v1/callbacks", bearer(k.key))).status).toBe(200);
      const revoked = await revokeApiKey(t.database.db, k.id, time.clock());
      expect(revoked).toMatchObject({ key: { id: k.id }, alreadyRevoked: false });
      // Still cached: this is the documented delay, not a requirement.
      expect((await t.request("/v1/callbacks", bearer(k.key))).status).toBe(200);
      time.advance(API_KEY_CACHE_TTL_MS + 1);
      const r = await t.request("/v1/callbacks", bearer(k.key));
      expectProblem(r, 401);
      expect(r.headers.get("www-authenticate")).toContain("invalid_token");
    });

    it("is refused at once when it was never seen before revocation", async () => {
      const k = await makeKey(t.database.db, "admin", "revoked-unseen");
      await revokeApiKey(t.database.db, k.id, time.clock());
      expectProblem(await t.request("/v1/callbacks", bearer(k.key)), 401);
    });
  });

  describe("scopes", () => {
    it("read key on a write route is 403", async () => {
      const r = await t.request("/v1/import/receipts", receipts(keys.read.key));
      expectProblem(r, 403);
      expect(r.json().detail).toContain('"write"');
    });

    it("read key on a read route is 200", async () => {
      expect((await t.request("/v1/callbacks", bearer(keys.read.key))).status).toBe(200);
    });

    it("write key may read (scopes are a hierarchy) and write", async () => {
      expect((await t.request("/v1/callbacks", bearer(keys.write.key))).status).toBe(200);
      const r = await t.request("/v1/import/receipts", receipts(keys.write.key));
      expect(r.status).toBe(200);
      expect(r.json()).toMatchObject({ received: 0, stored: 0 });
    });

    it("admin key may read and write", async () => {
      expect((await t.request("/v1/callbacks", bearer(keys.admin.key))).status).toBe(200);
      expect((await t.request("/v1/import/receipts", receipts(keys.admin.key))).status).toBe(200);
    });
  });
});

describe("API_KEYS", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ API_KEYS: "env-key-one-0123456789,env-key-two-0123456789" });
  });
  afterAll(() => t.close());

  it("each key has full scope", async () => {
    expect((await t.request("/v1/callbacks", bearer("env-key-one-0123456789"))).status).toBe(200);
    expect((await t.request("/v1/import/receipts", receipts("env-key-two-0123456789"))).status).toBe(200);
  });

  it("other keys are refused, and a key from the table works beside them", async () => {
    expectProblem(await t.request("/v1/callbacks", bearer("env-key-three")), 401);
    expectProblem(await t.request("/v1/callbacks"), 401);
    const k = await makeKey(t.database.db, "read");
    expect((await t.request("/v1/callbacks", bearer(k.key))).status).toBe(200);
    expectProblem(await t.request("/v1/import/receipts", receipts(k.key)), 403);
  });
});

describe("open mode (no key anywhere, loopback listener)", () => {
  it("is open until a key is made, then closed within the cache TTL", async () => {
    const time = manualClock();
    const t = await createTestApp({}, { clock: time.clock });
    try {
      expect((await t.request("/v1/callbacks")).status).toBe(200);
      expect((await t.request("/v1/import/receipts", { method: "POST", headers: { "content-type": "text/plain" }, body: "" })).status).toBe(200);
      const k = await makeKey(t.database.db, "read");
      // The new key works at once (its hash was never looked up)...
      expect((await t.request("/v1/callbacks", bearer(k.key))).status).toBe(200);
      // ...and the API stops being open once the cached "no key exists" expires.
      time.advance(API_KEY_CACHE_TTL_MS + 1);
      expectProblem(await t.request("/v1/callbacks"), 401);
      expect((await t.request("/v1/callbacks", bearer(k.key))).status).toBe(200);
      // Revoking the last key opens it again (still loopback only).
      await revokeApiKey(t.database.db, k.id, time.clock());
      time.advance(API_KEY_CACHE_TTL_MS + 1);
      expect((await t.request("/v1/callbacks")).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it("is never open on a listener beyond loopback, even if every key was revoked after start", async () => {
    const t = await createTestApp({ HOST: "0.0.0.0" });
    try {
      expectProblem(await t.request("/v1/callbacks"), 401);
      expectProblem(await t.request("/v1/callbacks", bearer("anything")), 401);
    } finally {
      await t.close();
    }
  });
});

describe("rate limit", () => {
  let t: TestApp;
  const time = manualClock();
  let a: { id: string; key: string };
  let b: { id: string; key: string };
  beforeAll(async () => {
    t = await createTestApp({ API_RATE_PER_SEC: "2", API_RATE_BURST: "3" }, { clock: time.clock });
    a = await makeKey(t.database.db, "write", "a");
    b = await makeKey(t.database.db, "write", "b");
  });
  afterAll(() => t.close());
  // Every case starts from full buckets: 3 tokens refill in 1.5 s.
  afterEach(() => time.advance(10_000));

  it("puts RateLimit-* headers on every answer, with Remaining decreasing", async () => {
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const r = await t.request("/v1/callbacks", bearer(a.key));
      expect(r.status).toBe(200);
      seen.push(rate(r));
    }
    expect(seen).toEqual([
      { limit: "3", remaining: "2", reset: "1" }, // 1 token short of full: 0.5 s, rounded up
      { limit: "3", remaining: "1", reset: "1" },
      { limit: "3", remaining: "0", reset: "2" },
    ]);
  });

  it("puts them on 4xx answers too (401, 403, 404, 400)", async () => {
    const answers = [
      await t.request("/v1/callbacks"),
      await t.request("/v1/import/receipts", receipts("wrong")),
      await t.request("/v1/nothing-here", bearer(a.key)),
      await t.request("/v1/callbacks?limit=0", bearer(a.key)),
    ];
    expect(answers.map((r) => r.status)).toEqual([401, 401, 404, 400]);
    for (const r of answers) expect(rate(r)).toMatchObject({ limit: "3", remaining: expect.stringMatching(/^\d+$/), reset: expect.stringMatching(/^\d+$/) });
  });

  it("answers 429 problem+json with Retry-After past the burst", async () => {
    for (let i = 0; i < 3; i++) expect((await t.request("/v1/callbacks", bearer(a.key))).status).toBe(200);
    const r = await t.request("/v1/callbacks", bearer(a.key));
    expectProblem(r, 429);
    expect(r.headers.get("retry-after")).toBe("1");
    expect(rate(r)).toEqual({ limit: "3", remaining: "0", reset: "2" });
    // A refused request takes no token: it stays refused, and no deeper.
    expect((await t.request("/v1/import/receipts", receipts(a.key))).status).toBe(429);
  });

  it("refills as time passes", async () => {
    for (let i = 0; i < 3; i++) await t.request("/v1/callbacks", bearer(a.key));
    expect((await t.request("/v1/callbacks", bearer(a.key))).status).toBe(429);
    time.advance(499);
    expect((await t.request("/v1/callbacks", bearer(a.key))).status).toBe(429);
    time.advance(1); // 0.5 s at 2/s: one token
    const r = await t.request("/v1/callbacks", bearer(a.key));
    expect(r.status).toBe(200);
    expect(rate(r).remaining).toBe("0");
    time.advance(1500); // full again
    expect(rate(await t.request("/v1/callbacks", bearer(a.key))).remaining).toBe("2");
  });

  it("keeps one bucket per key", async () => {
    for (let i = 0; i < 3; i++) await t.request("/v1/callbacks", bearer(a.key));
    expect((await t.request("/v1/callbacks", bearer(a.key))).status).toBe(429);
    const r = await t.request("/v1/callbacks", bearer(b.key));
    expect(r.status).toBe(200);
    expect(rate(r).remaining).toBe("2");
  });

  it("charges requests without a valid key to their source address, not to a key", async () => {
    expect((await t.request("/v1/callbacks", bearer(a.key))).status).toBe(200); // a is now in the key cache
    for (let i = 0; i < 3; i++) expect((await t.request("/v1/callbacks", bearer("wrong"))).status).toBe(401);
    expect((await t.request("/v1/callbacks", bearer("wrong"))).status).toBe(429);
    expect((await t.request("/v1/callbacks")).status).toBe(429);
    expect((await t.request("/v1/callbacks", bearer(a.key))).status).toBe(200);
  });

  it("made-up keys from one address never lock a real key out: a key not yet looked up still gets in", async () => {
    const fresh = await makeKey(t.database.db, "read", "fresh");
    for (let i = 0; i < 3; i++) expect((await t.request("/v1/callbacks", bearer(`made-up-${i}`))).status).not.toBe(200);
    const r = await t.request("/v1/callbacks", bearer(fresh.key));
    expect(r.status).toBe(200);
  });
});

describe("rate limit in open mode", () => {
  it("keeps one bucket per source address", async () => {
    const time = manualClock();
    const t = await createTestApp({ API_RATE_PER_SEC: "1", API_RATE_BURST: "2" }, { clock: time.clock });
    try {
      const from = (address: string) => t.app.request("/v1/callbacks", {}, { incoming: { socket: { remoteAddress: address } } });
      expect((await from("10.0.0.1")).status).toBe(200);
      expect((await from("10.0.0.1")).status).toBe(200);
      const refused = await from("10.0.0.1");
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("1");
      const other = await from("10.0.0.2");
      expect(other.status).toBe(200);
      expect(other.headers.get("ratelimit-remaining")).toBe("1");
    } finally {
      await t.close();
    }
  });
});

describe("RateLimiter memory", () => {
  it("drops buckets that have refilled, and never keeps more than maxBuckets", () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSec: 10, burst: 5, now: () => now, maxBuckets: 100 });
    for (let i = 0; i < 1000; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBe(100);
    now += 1000; // every bucket is full again
    for (let i = 0; i < 200; i++) limiter.take(`idle-sweeper-${i % 2}`);
    expect(limiter.size).toBe(2);
  });

  it("forgetting an idle bucket changes nothing its caller can see", () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSec: 1, burst: 2, now: () => now });
    expect(limiter.take("x")).toMatchObject({ allowed: true, remaining: 1 });
    now += 5000;
    limiter.take("y"); // sweeps x, which is full
    expect(limiter.size).toBe(1);
    expect(limiter.take("x")).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 1 });
  });
});

describe("start-up exposure check", () => {
  const logger = createLogger("silent");

  it("refuses a listener beyond loopback with no API_KEYS and no key in the database, saying how to make one", () => {
    const config = parseConfig({ HOST: "0.0.0.0" });
    expect(() => checkExposure(config, logger, 0)).toThrow(StartupRefusedError);
    expect(() => checkExposure(config, logger, 0)).toThrow(/npm run --silent cli -- keys create --name crm --scope read.*API_KEYS/);
  });

  it("allows it with a key in the database, or with API_KEYS", () => {
    expect(() => checkExposure(parseConfig({ HOST: "0.0.0.0" }), logger, 1)).not.toThrow();
    expect(() => checkExposure(parseConfig({ HOST: "0.0.0.0", API_KEYS: "k" }), logger, 0)).not.toThrow();
  });

  it("allows loopback with no key at all", () => {
    expect(() => checkExposure(parseConfig({ HOST: "127.0.0.1" }), logger, 0)).not.toThrow();
  });

  describe("startService counts the keys in the database", () => {
    let env: Record<string, string>;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const base = serverUrl();
      if (base) {
        const created = await createServerDatabase(base);
        env = { DATABASE_URL: created.url };
        drop = created.drop;
      } else {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smsc-hub-auth-"));
        env = { PGLITE_DIR: path.join(dir, "pglite") };
        drop = async () => fs.rmSync(dir, { recursive: true, force: true });
      }
    });
    afterAll(() => drop());

    const config = () => parseConfig({ ...env, HOST: "0.0.0.0", PORT: "0", LOG_LEVEL: "silent" });

    it("refuses to start with no key, and starts once a key exists", async () => {
      await expect(startService(config(), logger)).rejects.toThrow(StartupRefusedError);

      const db = await createDb(config());
      try {
        await migrate(db);
        await makeKey(db, "read", "crm");
      } finally {
        await db.close();
      }
      const service = await startService(config(), logger);
      try {
        const r = await fetch(`http://127.0.0.1:${service.port}/v1/callbacks`);
        expect(r.status).toBe(401);
      } finally {
        await service.stop();
      }
    });
  });
});
