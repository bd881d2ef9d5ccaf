// The only reader of process.env. One zod schema; a bad value stops the process with a message that names
// the variable and says what is wrong. Tests build Config objects directly with `parseConfig({...})`.
import { z } from "zod";
import { IVR_TARGETS, type IvrTarget, type NormalizeOptions } from "./domain/callback.js";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();

const csv = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  );

export type CallbackAccount = { name: string; token: string; secret: string | null };

const AccountsSchema = z.string().transform((value, ctx): CallbackAccount[] => {
  const accounts: CallbackAccount[] = [];
  for (const entry of value.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [name, token, ...rest] = entry.split(":");
    const secret = rest.length > 0 ? rest.join(":") : null;
    if (!name || !/^[A-Za-z0-9_.-]{1,64}$/.test(name) || !token) {
      ctx.addIssue({
        code: "custom",
        message: `each entry must be name:token[:secret] with a name of letters, digits, _ . - (got "${name ?? ""}:…")`,
      });
      return z.NEVER;
    }
    if (accounts.some((a) => a.name === name || a.token === token)) {
      ctx.addIssue({ code: "custom", message: `account "${name}" or its token is declared twice` });
      return z.NEVER;
    }
    accounts.push({ name, token, secret: secret === "" ? null : secret });
  }
  return accounts;
});

const IvrFieldMapSchema = z.string().transform((value, ctx): Record<string, IvrTarget> => {
  const map: Record<string, IvrTarget> = Object.create(null);
  for (const entry of value.split(",").map((e) => e.trim()).filter(Boolean)) {
    const [field, target] = entry.split("=").map((x) => x.trim());
    if (!field || !target || !(IVR_TARGETS as readonly string[]).includes(target)) {
      ctx.addIssue({ code: "custom", message: `each entry must be field=target with a target of ${IVR_TARGETS.join(", ")} (got "${entry}")` });
      return z.NEVER;
    }
    map[field] = target as IvrTarget;
  }
  return map;
});

const timezone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: "not an IANA time zone (for example Europe/Moscow)" },
);

const country = z
  .string()
  .regex(/^[A-Za-z]{2}$/, "a two-letter ISO country code (for example RU)")
  .transform((s) => s.toUpperCase());

export const EnvSchema = z.object({
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? undefined : v))
    .refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
      message: "must start with postgres:// or postgresql://",
    }),
  DATABASE_POOL_SIZE: positiveInt.optional(),
  PGLITE_DIR: z.string().min(1).default(".data/pglite"),
  MIGRATE_ON_START: bool.default(true),
  CALLBACK_TOKEN: z.string().optional(),
  CALLBACK_ACCOUNTS: AccountsSchema.optional(),
  SMSC_SIGNATURE_MODE: z.enum(["off", "log", "enforce"]).default("off"),
  SMSC_SECRET: z.string().optional(),
  SMSC_TIMEZONE: timezone.default("Europe/Moscow"),
  DEFAULT_COUNTRY: country.default("RU"),
  API_KEYS: csv.default([]),
  CALLBACK_BODY_LIMIT: positiveInt.default(65536),
  API_BODY_LIMIT: positiveInt.default(4194304),
  WRITER_MAX_BATCH: positiveInt.default(1000),
  WRITER_MAX_QUEUE: positiveInt.default(10000),
  WRITER_CONCURRENCY: positiveInt.default(2),
  ROLLUP_MAINTENANCE: bool.default(true),
  API_RATE_PER_SEC: positiveInt.default(50),
  API_RATE_BURST: positiveInt.default(100),
  RETENTION_DAYS: nonNegativeInt.default(0),
  REPORT_RETENTION_DAYS: positiveInt.default(7),
  HYGIENE_MAX_ROWS: positiveInt.default(1000000),
  OPT_OUT_WORDS: csv.default(["STOP", "СТОП", "ОТПИСКА", "UNSUBSCRIBE"]),
  OPT_IN_WORDS: csv.default(["START", "СТАРТ"]),
  IVR_FIELD_MAP: IvrFieldMapSchema.optional(),
  TRUST_PROXY: bool.default(false),
  METRICS_TOKEN: z.string().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10000),
});

export type Env = z.input<typeof EnvSchema>;

export type Config = {
  host: string;
  port: number;
  databaseUrl: string | undefined;
  /** Connections for statements outside a transaction; undefined: DEFAULT_POOL_SIZE (2). */
  poolSize: number | undefined;
  pgliteDir: string;
  migrateOnStart: boolean;
  /** Callback accounts. Empty: no token is asked for and everything belongs to `default`. */
  accounts: CallbackAccount[];
  /** Secret of the `default` account when no tokens are configured. */
  defaultSecret: string | null;
  signatureMode: "off" | "log" | "enforce";
  smscTimezone: string;
  defaultCountry: string;
  apiKeys: string[];
  callbackBodyLimit: number;
  apiBodyLimit: number;
  writerMaxBatch: number;
  writerMaxQueue: number;
  writerConcurrency: number;
  /** Keep delivery statistics current as callbacks arrive (off only to measure their cost). */
  rollupMaintenance: boolean;
  apiRatePerSec: number;
  apiRateBurst: number;
  retentionDays: number;
  reportRetentionDays: number;
  hygieneMaxRows: number;
  optOutWords: string[];
  optInWords: string[];
  /** Take the client's address from X-Forwarded-For (behind a proxy you run). */
  trustProxy: boolean;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  metricsToken: string | null;
  /** How callbacks are read: SMSC's time zone, the default country, extra IVR field names. */
  normalize: NormalizeOptions;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  shutdownTimeoutMs: number;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses environment-style input into a Config; throws ConfigError naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join(".") || "environment"}: ${issue.message}`),
    );
  }
  const e = result.data;
  const problems: string[] = [];
  const accounts: CallbackAccount[] = [...(e.CALLBACK_ACCOUNTS ?? [])];
  if (e.CALLBACK_TOKEN !== undefined && e.CALLBACK_TOKEN !== "") {
    if (accounts.some((a) => a.name === "default")) {
      problems.push('CALLBACK_TOKEN: CALLBACK_ACCOUNTS already declares an account named "default"');
    } else if (accounts.some((a) => a.token === e.CALLBACK_TOKEN)) {
      problems.push("CALLBACK_TOKEN: the same token is used by an account in CALLBACK_ACCOUNTS");
    } else {
      accounts.unshift({ name: "default", token: e.CALLBACK_TOKEN, secret: e.SMSC_SECRET || null });
    }
  }
  const defaultSecret = e.SMSC_SECRET || null;
  if (e.SMSC_SIGNATURE_MODE === "enforce") {
    const missing = accounts.length === 0 ? (defaultSecret ? [] : ["default"]) : accounts.filter((a) => !a.secret).map((a) => a.name);
    if (missing.length > 0) {
      problems.push(
        `SMSC_SIGNATURE_MODE: "enforce" needs a secret for every account; missing for ${missing.join(", ")} ` +
          "(set SMSC_SECRET, or name:token:secret in CALLBACK_ACCOUNTS)",
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    poolSize: e.DATABASE_POOL_SIZE,
    pgliteDir: e.PGLITE_DIR,
    migrateOnStart: e.MIGRATE_ON_START,
    accounts,
    defaultSecret,
    signatureMode: e.SMSC_SIGNATURE_MODE,
    smscTimezone: e.SMSC_TIMEZONE,
    defaultCountry: e.DEFAULT_COUNTRY,
    apiKeys: e.API_KEYS,
    callbackBodyLimit: e.CALLBACK_BODY_LIMIT,
    apiBodyLimit: e.API_BODY_LIMIT,
    writerMaxBatch: e.WRITER_MAX_BATCH,
    writerMaxQueue: e.WRITER_MAX_QUEUE,
    writerConcurrency: e.WRITER_CONCURRENCY,
    rollupMaintenance: e.ROLLUP_MAINTENANCE,
    apiRatePerSec: e.API_RATE_PER_SEC,
    apiRateBurst: e.API_RATE_BURST,
    retentionDays: e.RETENTION_DAYS,
    reportRetentionDays: e.REPORT_RETENTION_DAYS,
    hygieneMaxRows: e.HYGIENE_MAX_ROWS,
    optOutWords: e.OPT_OUT_WORDS,
    optInWords: e.OPT_IN_WORDS,
    trustProxy: e.TRUST_PROXY,
    metricsToken: e.METRICS_TOKEN || null,
    normalize: {
      timeZone: e.SMSC_TIMEZONE,
      defaultCountry: e.DEFAULT_COUNTRY,
      ivrFieldMap: e.IVR_FIELD_MAP ?? {},
      optOutWords: e.OPT_OUT_WORDS,
      optInWords: e.OPT_IN_WORDS,
    },
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
}

/** Reads the process environment; on bad config prints the problems and exits 1. */
export function loadConfig(): Config {
  try {
    return parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`smsc-hub: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/** True when the host only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The account names callbacks are filed under, and the one a /v1 request means when it names none. */
export function configuredAccounts(config: Pick<Config, "accounts">): { names: ReadonlySet<string>; fallback: string } {
  const names = config.accounts.length > 0 ? config.accounts.map((a) => a.name) : ["default"];
  return { names: new Set(names), fallback: names[0]! };
}
