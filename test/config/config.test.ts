import { describe, expect, it } from "vitest";
import { ConfigError, isLoopbackHost, parseConfig } from "../../src/config.js";

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("parseConfig", () => {
  it("has the documented defaults", () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      host: "127.0.0.1",
      port: 3000,
      databaseUrl: undefined,
      poolSize: undefined, // createDb's DEFAULT_POOL_SIZE (2)
      pgliteDir: ".data/pglite",
      migrateOnStart: true,
      accounts: [],
      signatureMode: "off",
      smscTimezone: "Europe/Moscow",
      defaultCountry: "RU",
      apiKeys: [],
      callbackBodyLimit: 65536,
      apiBodyLimit: 4194304,
      writerMaxBatch: 1000,
      writerMaxQueue: 10000,
      apiRatePerSec: 50,
      apiRateBurst: 100,
      retentionDays: 0,
      reportRetentionDays: 7,
      hygieneMaxRows: 1000000,
      optOutWords: ["STOP", "СТОП", "ОТПИСКА", "UNSUBSCRIBE"],
      optInWords: ["START", "СТАРТ"],
      logLevel: "info",
      shutdownTimeoutMs: 10000,
    });
  });

  it.each([
    [{ PORT: "seventy" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ SMSC_SIGNATURE_MODE: "strict" }, "SMSC_SIGNATURE_MODE"],
    [{ SMSC_TIMEZONE: "Mars/Olympus" }, "SMSC_TIMEZONE"],
    [{ DEFAULT_COUNTRY: "Russia" }, "DEFAULT_COUNTRY"],
    [{ CALLBACK_BODY_LIMIT: "-1" }, "CALLBACK_BODY_LIMIT"],
    [{ MIGRATE_ON_START: "maybe" }, "MIGRATE_ON_START"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ CALLBACK_ACCOUNTS: "nocolon" }, "CALLBACK_ACCOUNTS"],
    [{ CALLBACK_ACCOUNTS: "a:t1,a:t2" }, "CALLBACK_ACCOUNTS"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ DATABASE_POOL_SIZE: "0" }, "DATABASE_POOL_SIZE"],
    [{ DATABASE_POOL_SIZE: "2.5" }, "DATABASE_POOL_SIZE"],
  ])("names the variable that is wrong: %o", (env, variable) => {
    const problems = problemsOf(env);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).toContain(variable);
  });

  it("reads accounts, tokens and secrets", () => {
    const c = parseConfig({ CALLBACK_TOKEN: "t0", SMSC_SECRET: "s0", CALLBACK_ACCOUNTS: "shop:t1:s1, crm:t2" });
    expect(c.accounts).toEqual([
      { name: "default", token: "t0", secret: "s0" },
      { name: "shop", token: "t1", secret: "s1" },
      { name: "crm", token: "t2", secret: null },
    ]);
  });

  it("refuses enforce mode while an account has no secret", () => {
    expect(problemsOf({ SMSC_SIGNATURE_MODE: "enforce" }).join()).toMatch(/SMSC_SIGNATURE_MODE.*default/);
    expect(problemsOf({ SMSC_SIGNATURE_MODE: "enforce", CALLBACK_ACCOUNTS: "a:t1:s1,b:t2" }).join()).toMatch(/missing for b/);
    expect(problemsOf({ SMSC_SIGNATURE_MODE: "enforce", SMSC_SECRET: "s" })).toEqual([]);
  });

  it("splits comma lists and coerces numbers and booleans", () => {
    const c = parseConfig({ API_KEYS: " k1 ,k2,, ", PORT: "8080", MIGRATE_ON_START: "false", DEFAULT_COUNTRY: "kz", DATABASE_POOL_SIZE: "4" });
    expect(c.poolSize).toBe(4);
    expect(c.apiKeys).toEqual(["k1", "k2"]);
    expect(c.port).toBe(8080);
    expect(c.migrateOnStart).toBe(false);
    expect(c.defaultCountry).toBe("KZ");
  });
});

describe("isLoopbackHost", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["localhost", true],
    ["::1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["192.168.1.10", false],
  ])("%s → %s", (host, expected) => expect(isLoopbackHost(host)).toBe(expected));
});
