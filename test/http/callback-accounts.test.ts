// Accounts and authenticity on the callback routes: account tokens (CALLBACK_TOKEN, CALLBACK_ACCOUNTS) and SMSC's
// md5/sha1 signatures (SMSC_SIGNATURE_MODE off | log | enforce). The tests sign their own requests.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.js";
import { createTestApp, form, type TestApp } from "../helpers/app.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { CALLBACK, IVR, ROUTES, callbacksWhere, getUrl, md5, messagesOf, nextId, nextPhone, sha1 } from "../fixtures/callbacks/http.js";

let database: TestDatabase;
const apps: TestApp[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await database?.drop();
});

/** An app with these settings over the file's database (closed after the file). */
async function appWith(env: Record<string, string>): Promise<TestApp> {
  const app = await createTestApp(env, { database });
  apps.push(app);
  return app;
}

function status(extra: Record<string, string> = {}): Record<string, string> {
  return { id: nextId(), phone: nextPhone(), status: "1", err: "0", ts: "1717585407", ...extra };
}

type Algo = "md5" | "sha1";
const hash = (algo: Algo, s: string) => (algo === "md5" ? md5(s) : sha1(s));

/** A status event signed as SMSC does: hex(hash("id:phone:status:SECRET")). */
function signedStatus(secret: string, algo: Algo = "md5", extra: Record<string, string> = {}): Record<string, string> {
  const f = status(extra);
  return { ...f, [algo]: hash(algo, `${f.id}:${f.phone}:${f.status}:${secret}`) };
}

/** A wait-call event signed as SMSC does: hex(md5("phone:ts:SECRET")). */
function signedWaitcall(secret: string): Record<string, string> {
  const phone = nextPhone();
  const ts = "1717586000";
  return { waitcall: "1", phone, ts, md5: md5(`${phone}:${ts}:${secret}`) };
}

const withToken = (path: string, token: string) => `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;

// -----------------------------------------------------------------------------------------------------------------

describe("accounts: happy path", () => {
  it.each(ROUTES)("%s: with no tokens configured, everything belongs to account default", async (route) => {
    const t = await appWith({});
    const a = status();
    const b = status();
    expect((await t.request(route, form(a))).status).toBe(200);
    expect((await t.request(withToken(getUrl(route, b), "anything"))).status).toBe(200);
    expect((await callbacksWhere(t, "id", a.id!))[0]).toMatchObject({ account: "default" });
    expect((await callbacksWhere(t, "id", b.id!))[0]).toMatchObject({ account: "default" });
    expect((await callbacksWhere(t, "id", b.id!))[0]!.fields).toEqual(b);
    expect((await messagesOf(t, a.id!))[0]).toMatchObject({ account: "default" });
  });

  it.each(ROUTES)("%s: CALLBACK_TOKEN, the right token in ?token= or X-Callback-Token → 200, account default", async (route) => {
    const t = await appWith({ CALLBACK_TOKEN: "tok-default-1" });
    const byQuery = status();
    const byHeader = status();
    const q = await t.request(withToken(route, "tok-default-1"), form(byQuery));
    const h = await t.request(route, form(byHeader, { "X-Callback-Token": "tok-default-1" }));
    expect([q.status, q.text, h.status, h.text]).toEqual([200, "OK", 200, "OK"]);
    for (const f of [byQuery, byHeader]) {
      const [row] = await callbacksWhere(t, "id", f.id!);
      expect(row).toMatchObject({ account: "default" });
      expect(row!.fields).toEqual(f);
      expect(JSON.stringify(row)).not.toContain("tok-default-1");
    }
  });

  it("CALLBACK_ACCOUNTS routes each token's callbacks to its account", async () => {
    const t = await appWith({ CALLBACK_ACCOUNTS: "a:tok1,b:tok2:sec2" });
    const forA = status();
    const forB = status();
    expect((await t.request(withToken(CALLBACK, "tok1"), form(forA))).status).toBe(200);
    expect((await t.request(CALLBACK, form(forB, { "x-callback-token": "tok2" }))).status).toBe(200);
    expect((await callbacksWhere(t, "id", forA.id!)).map((r) => r.account)).toEqual(["a"]);
    expect((await callbacksWhere(t, "id", forB.id!)).map((r) => r.account)).toEqual(["b"]);
    expect((await messagesOf(t, forA.id!)).map((m) => m.account)).toEqual(["a"]);
    expect((await messagesOf(t, forB.id!)).map((m) => m.account)).toEqual(["b"]);
  });

  it("the same callback in two accounts is two callbacks and two messages, not a duplicate", async () => {
    const t = await appWith({ CALLBACK_ACCOUNTS: "a:tok1,b:tok2:sec2" });
    const f = status();
    expect((await t.request(withToken(CALLBACK, "tok1"), form(f))).status).toBe(200);
    expect((await t.request(withToken(CALLBACK, "tok2"), form(f))).status).toBe(200);
    expect((await callbacksWhere(t, "id", f.id!)).map((r) => r.account).sort()).toEqual(["a", "b"]);
    expect((await messagesOf(t, f.id!)).map((m) => m.account).sort()).toEqual(["a", "b"]);
  });

  it("CALLBACK_TOKEN and CALLBACK_ACCOUNTS together: default and the named accounts", async () => {
    const t = await appWith({ CALLBACK_TOKEN: "tok-d", CALLBACK_ACCOUNTS: "shop:tok-s" });
    const d = status();
    const s = status();
    expect((await t.request(withToken(CALLBACK, "tok-d"), form(d))).status).toBe(200);
    expect((await t.request(withToken(IVR, "tok-s"), form(s))).status).toBe(200);
    expect((await callbacksWhere(t, "id", d.id!))[0]).toMatchObject({ account: "default" });
    expect((await callbacksWhere(t, "id", s.id!))[0]).toMatchObject({ account: "shop" });
  });
});

describe("accounts: errors and security", () => {
  it.each(ROUTES.flatMap((route) => (["missing", "wrong", "empty", "wrong header", "another case"] as const).map((k) => [route, k] as const)))(
    "%s: %s token → 401, nothing stored",
    async (route, kind) => {
      const t = await appWith({ CALLBACK_TOKEN: "Tok-Secret-9" });
      const f = status();
      const path =
        kind === "wrong" ? withToken(route, "Tok-Secret-8") : kind === "empty" ? withToken(route, "") : kind === "another case" ? withToken(route, "tok-secret-9") : route;
      const headers: Record<string, string> = kind === "wrong header" ? { "X-Callback-Token": "nope" } : {};
      const res = await t.request(path, form(f, headers));
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain\b/);
      expect(await callbacksWhere(t, "id", f.id!)).toEqual([]);
      expect(await messagesOf(t, f.id!)).toEqual([]);
    },
  );

  it("one account's token does not open another account: CALLBACK_ACCOUNTS with an unknown token → 401", async () => {
    const t = await appWith({ CALLBACK_ACCOUNTS: "a:tok1,b:tok2:sec2" });
    const f = status();
    expect((await t.request(withToken(CALLBACK, "tok3"), form(f))).status).toBe(401);
    expect((await t.request(withToken(CALLBACK, "sec2"), form(f))).status).toBe(401);
    expect(await callbacksWhere(t, "id", f.id!)).toEqual([]);
  });

  it("a GET with a wrong token is refused too", async () => {
    const t = await appWith({ CALLBACK_TOKEN: "tok-get" });
    const f = status();
    expect((await t.request(withToken(getUrl(CALLBACK, f), "tok-got"))).status).toBe(401);
    expect((await t.request(withToken(getUrl(CALLBACK, f), "tok-get"))).status).toBe(200);
    expect(await callbacksWhere(t, "id", f.id!)).toHaveLength(1);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe("signatures: happy path", () => {
  it("off: signatures are not checked (a wrong one is stored, unmarked)", async () => {
    const t = await appWith({ SMSC_SIGNATURE_MODE: "off", SMSC_SECRET: "S3" });
    const f: Record<string, string> = { ...status(), md5: "0".repeat(32) };
    expect((await t.request(CALLBACK, form(f))).status).toBe(200);
    expect((await callbacksWhere(t, "id", f.id!))[0]).toMatchObject({ signature: null, error: null });
  });

  it.each<[string, (secret: string) => Record<string, string>, string]>([
    ["md5 right", (s) => signedStatus(s, "md5"), "ok"],
    ["sha1 right", (s) => signedStatus(s, "sha1"), "ok"],
    ["md5 in upper-case hex", (s) => { const f = signedStatus(s, "md5"); return { ...f, md5: f.md5!.toUpperCase() }; }, "ok"],
    ["md5 and sha1 both right", (s) => { const f = signedStatus(s, "md5"); return { ...f, sha1: sha1(`${f.id}:${f.phone}:${f.status}:${s}`) }; }, "ok"],
    ["md5 with another secret", () => signedStatus("not-the-secret", "md5"), "bad"],
    ["sha1 with another secret", () => signedStatus("not-the-secret", "sha1"), "bad"],
    ["no signature", () => status(), "missing"],
    ["tampered status", (s) => ({ ...signedStatus(s, "md5"), status: "3" }), "bad"],
  ])("log: %s → 200, stored with signature %s", async (_name, make, expected) => {
    const t = await appWith({ SMSC_SIGNATURE_MODE: "log", SMSC_SECRET: "log-secret" });
    const f = make("log-secret");
    const res = await t.request(CALLBACK, form(f));
    expect(res.status).toBe(200);
    const found = await callbacksWhere(t, "id", f.id!);
    expect(found).toHaveLength(1);
    expect(found[0]!.signature).toBe(expected);
    expect(await messagesOf(t, f.id!)).toHaveLength(1);
  });

  it("log: a wait-call event is checked over phone:ts", async () => {
    const t = await appWith({ SMSC_SIGNATURE_MODE: "log", SMSC_SECRET: "wc" });
    const good = signedWaitcall("wc");
    const bad = signedWaitcall("other");
    expect((await t.request(CALLBACK, form(good))).status).toBe(200);
    expect((await t.request(CALLBACK, form(bad))).status).toBe(200);
    expect((await callbacksWhere(t, "phone", good.phone!))[0]).toMatchObject({ kind: "waitcall", signature: "ok" });
    expect((await callbacksWhere(t, "phone", bad.phone!))[0]).toMatchObject({ kind: "waitcall", signature: "bad" });
  });

  describe("enforce", () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appWith({ SMSC_SIGNATURE_MODE: "enforce", SMSC_SECRET: "enf-secret" });
    });

    it.each<[string, () => Record<string, string>]>([
      ["md5", () => signedStatus("enf-secret", "md5")],
      ["sha1", () => signedStatus("enf-secret", "sha1")],
      ["upper-case md5", () => { const f = signedStatus("enf-secret", "md5"); return { ...f, md5: f.md5!.toUpperCase() }; }],
      ["upper-case sha1", () => { const f = signedStatus("enf-secret", "sha1"); return { ...f, sha1: f.sha1!.toUpperCase() }; }],
      ["an HLR result", () => signedStatus("enf-secret", "md5", { type: "4", imsi: "250011234567890", mcc: "250", mnc: "01" })],
    ])("a good %s signature → 200, stored with signature ok", async (_name, make) => {
      const f = make();
      const res = await t.request(CALLBACK, form(f));
      expect([res.status, res.text]).toEqual([200, "OK"]);
      expect((await callbacksWhere(t, "id", f.id!))[0]).toMatchObject({ signature: "ok" });
      expect(await messagesOf(t, f.id!)).toHaveLength(1);
    });

    it("a good signature by GET → 200", async () => {
      const f = signedStatus("enf-secret", "sha1");
      expect((await t.request(getUrl(CALLBACK, f))).status).toBe(200);
      expect(await callbacksWhere(t, "id", f.id!)).toHaveLength(1);
    });

    it("a good wait-call signature (phone:ts) → 200", async () => {
      const f = signedWaitcall("enf-secret");
      expect((await t.request(CALLBACK, form(f))).status).toBe(200);
      expect(await callbacksWhere(t, "phone", f.phone!)).toHaveLength(1);
    });

    it.each(ROUTES)("%s: incoming SMS and IVR events are not signature-checked (they rely on the token)", async (route) => {
      const sms = { id: nextId(), phone: nextPhone(), mes: "STOP", to: "79585550101" };
      const ivr = { id: nextId(), phone: nextPhone(), menu: "12" };
      expect((await t.request(route, form(sms))).status).toBe(200);
      expect((await t.request(route, form({ ...ivr, md5: "f".repeat(32) }))).status).toBe(200);
      expect((await callbacksWhere(t, "id", sms.id))[0]).toMatchObject({ kind: "incoming", signature: null });
      expect((await callbacksWhere(t, "id", ivr.id))[0]).toMatchObject({ kind: "ivr", signature: null });
    });
  });

  it("per-account secrets: each account's callbacks are checked with its own secret", async () => {
    const t = await appWith({ SMSC_SIGNATURE_MODE: "enforce", CALLBACK_ACCOUNTS: "a:tok1:secA,b:tok2:secB" });
    const goodA = signedStatus("secA");
    const goodB = signedStatus("secB", "sha1");
    expect((await t.request(withToken(CALLBACK, "tok1"), form(goodA))).status).toBe(200);
    expect((await t.request(withToken(CALLBACK, "tok2"), form(goodB))).status).toBe(200);
    expect((await callbacksWhere(t, "id", goodA.id!))[0]).toMatchObject({ account: "a", signature: "ok" });
    expect((await callbacksWhere(t, "id", goodB.id!))[0]).toMatchObject({ account: "b", signature: "ok" });

    const crossed = signedStatus("secB");
    expect((await t.request(withToken(CALLBACK, "tok1"), form(crossed))).status).toBe(401);
    expect(await callbacksWhere(t, "id", crossed.id!)).toEqual([]);
  });

  it("CALLBACK_TOKEN's default account is checked with SMSC_SECRET", async () => {
    const t = await appWith({ SMSC_SIGNATURE_MODE: "enforce", CALLBACK_TOKEN: "tk", SMSC_SECRET: "ss" });
    const good = signedStatus("ss");
    const bad = signedStatus("tk");
    expect((await t.request(withToken(CALLBACK, "tk"), form(good))).status).toBe(200);
    expect((await t.request(withToken(CALLBACK, "tk"), form(bad))).status).toBe(401);
  });
});

describe("signatures: errors and security (enforce)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await appWith({ SMSC_SIGNATURE_MODE: "enforce", SMSC_SECRET: "enf-secret-2" });
  });

  it.each<[string, () => Record<string, string>]>([
    ["a missing signature", () => status()],
    ["an empty md5", () => ({ ...status(), md5: "" })],
    ["a wrong md5", () => signedStatus("wrong", "md5")],
    ["a wrong sha1", () => signedStatus("wrong", "sha1")],
    ["a right md5 with a wrong sha1", () => ({ ...signedStatus("enf-secret-2", "md5"), sha1: "0".repeat(40) })],
    ["a tampered status (signed for another value)", () => ({ ...signedStatus("enf-secret-2"), status: "3" })],
    ["a tampered phone", () => ({ ...signedStatus("enf-secret-2"), phone: nextPhone() })],
    ["a tampered id", () => ({ ...signedStatus("enf-secret-2"), id: nextId() })],
    ["the signature of the secret alone", () => ({ ...status(), md5: md5("enf-secret-2") })],
    ["a signature without the secret", () => { const f = status(); return { ...f, md5: md5(`${f.id}:${f.phone}:${f.status}`) }; }],
  ])("status with %s → 401, nothing stored", async (_name, make) => {
    const f = make();
    const res = await t.request(CALLBACK, form(f));
    expect(res.status).toBe(401);
    expect(await callbacksWhere(t, "id", f.id!)).toEqual([]);
    expect(await callbacksWhere(t, "phone", f.phone!)).toEqual([]);
    expect(await messagesOf(t, f.id!)).toEqual([]);
  });

  it.each<[string, (f: Record<string, string>) => Record<string, string>]>([
    ["missing", (f) => ({ waitcall: "1", phone: f.phone!, ts: f.ts! })],
    ["wrong", (f) => ({ ...f, md5: md5(`${f.phone}:${f.ts}:wrong`) })],
    ["over a tampered ts", (f) => ({ ...f, ts: "1717586999" })],
  ])("wait-call with a %s signature → 401, nothing stored", async (_name, change) => {
    const f = change(signedWaitcall("enf-secret-2"));
    expect((await t.request(CALLBACK, form(f))).status).toBe(401);
    expect(await callbacksWhere(t, "phone", f.phone!)).toEqual([]);
  });

  it("the signature covers the merged fields: query values cannot change a signed body, a body cannot change a signed query", async () => {
    const f = signedStatus("enf-secret-2");
    // The query asks for status 3; the body's signed status 1 wins and is what is stored.
    expect((await t.request(`${CALLBACK}?status=3`, form(f))).status).toBe(200);
    expect((await messagesOf(t, f.id!))[0]).toMatchObject({ status: 1 });
    // A signed query whose status is overridden by an unsigned body value fails.
    const g = signedStatus("enf-secret-2");
    expect((await t.request(getUrl(CALLBACK, g), form({ status: "3" }))).status).toBe(401);
    expect(await callbacksWhere(t, "id", g.id!)).toEqual([]);
  });
});

describe("configuration", () => {
  it("enforce with no secret is a ConfigError", () => {
    expect(() => parseConfig({ SMSC_SIGNATURE_MODE: "enforce" })).toThrow(ConfigError);
  });

  it("enforce with an account that has no secret is a ConfigError", () => {
    expect(() => parseConfig({ SMSC_SIGNATURE_MODE: "enforce", CALLBACK_ACCOUNTS: "a:tok1:secA,b:tok2" })).toThrow(ConfigError);
  });

  it("enforce with a secret, and log without one, are accepted", () => {
    expect(parseConfig({ SMSC_SIGNATURE_MODE: "enforce", SMSC_SECRET: "x" }).signatureMode).toBe("enforce");
    expect(parseConfig({ SMSC_SIGNATURE_MODE: "enforce", CALLBACK_ACCOUNTS: "a:t1:s1,b:t2:s2" }).accounts.map((a) => a.name)).toEqual(["a", "b"]);
    expect(parseConfig({ SMSC_SIGNATURE_MODE: "log" }).signatureMode).toBe("log");
  });

  it("an unknown signature mode is a ConfigError", () => {
    expect(() => parseConfig({ SMSC_SIGNATURE_MODE: "strict" })).toThrow(ConfigError);
  });
});
