// API keys for /v1: `Authorization: Bearer <key>`. A key is known by its SHA-256 hash: from API_KEYS (full scope,
// compared in constant time) or from the api_keys table (made by `smsc-hub keys create`, not revoked).
// Table lookups go through a small in-process cache (hash → key, or "unknown") that forgets each entry after
// `ttlMs` (30 s), so a revocation, or the first key made on an open API, takes effect within that time.
// With no key anywhere the API is open (scope admin), which is allowed only on a loopback listener.
// Scopes are ordered: read < write < admin; a key may do what its scope and every lower scope allow.
// Every /v1 answer is rate limited per caller (see rate-limit.ts): per key, or per source address for an open
// API and for requests without a valid key.
import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import type { Database } from "../db/client.js";
import { countActiveApiKeys, findActiveApiKeyByHash } from "../db/queries/api-keys.js";
import { ProblemError } from "../http/problem.js";
import { rateLimitHeaders, type RateLimiter } from "./rate-limit.js";

export type Scope = "read" | "write" | "admin";
export const SCOPES: readonly Scope[] = ["read", "write", "admin"];

export const isScope = (value: unknown): value is Scope => SCOPES.includes(value as Scope);

/** Who is calling: the key's id and scope (null id: API_KEYS, or an open API). */
export type Caller = { keyId: string | null; scope: Scope };

/** SHA-256 of a key, hex: what the api_keys table stores. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

type KnownKey = { id: string; scope: Scope };

export type ApiKeyCacheOptions = {
  db: Database;
  /** Milliseconds (the app's clock). */
  now: () => number;
  /** How long an answer from the table is trusted (default 30 s). */
  ttlMs?: number;
  /** How many hashes are remembered (default 10,000); the oldest is forgotten first. */
  maxEntries?: number;
};

export const API_KEY_CACHE_TTL_MS = 30_000;

/**
 * The api_keys table behind a cache: `find(hash)` and `anyActive()` normally cost no query. Concurrent misses
 * for the same hash share one query; a failed query is not cached.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { until: number; value: Promise<KnownKey | null> }>();
  private active: { until: number; value: Promise<boolean> } | null = null;
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(private readonly options: ApiKeyCacheOptions) {
    this.ttlMs = options.ttlMs ?? API_KEY_CACHE_TTL_MS;
    this.maxEntries = Math.max(1, options.maxEntries ?? 10_000);
  }

  /** True when `find(hash)` would answer without a query. */
  has(hash: string): boolean {
    const hit = this.entries.get(hash);
    return hit !== undefined && hit.until > this.options.now();
  }

  /** The active key with this hash, or null (unknown or revoked). */
  find(hash: string): Promise<KnownKey | null> {
    const now = this.options.now();
    const hit = this.entries.get(hash);
    if (hit && hit.until > now) return hit.value;
    this.entries.delete(hash);
    const value = findActiveApiKeyByHash(this.options.db, hash).then((row) =>
      row && isScope(row.scope) ? { id: row.id, scope: row.scope } : null,
    );
    this.entries.set(hash, { until: now + this.ttlMs, value });
    value.catch(() => this.entries.get(hash)?.value === value && this.entries.delete(hash));
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }

  /** True when the table holds at least one active key. */
  anyActive(): Promise<boolean> {
    const now = this.options.now();
    if (this.active && this.active.until > now) return this.active.value;
    const value = countActiveApiKeys(this.options.db).then((n) => n > 0);
    const entry = { until: now + this.ttlMs, value };
    this.active = entry;
    value.catch(() => this.active === entry && (this.active = null));
    return value;
  }

  /** Forgets everything (after a change made in this process, or in tests). */
  clear(): void {
    this.entries.clear();
    this.active = null;
  }
}

export type ApiKeyOptions = {
  /** API_KEYS: full scope. */
  keys: readonly string[];
  /** The api_keys table; without it only `keys` count. */
  store?: ApiKeyCache;
  /** Whether /v1 may be open when no key exists anywhere (true only on a loopback listener). */
  allowOpen: boolean;
  /** Per-caller rate limit; every answer then carries RateLimit-* headers. */
  limiter?: RateLimiter;
};

const REALM = 'Bearer realm="smsc-hub"';

const sourceAddress = (c: Context): string => (c.get("clientAddress" as never) as string | null | undefined) ?? "unknown";

/** Who is calling and which bucket pays for it; no caller: why the answer is 401. */
type Identity = { caller: Caller; bucket: string } | { caller: null; bucket: string; reason: "missing" | "invalid" };

function unauthorized(reason: "missing" | "invalid", headers: Record<string, string>): ProblemError {
  return reason === "missing"
    ? new ProblemError(401, "Unauthorized", "send an API key as `Authorization: Bearer <key>`", {
        headers: { ...headers, "WWW-Authenticate": REALM },
      })
    : new ProblemError(401, "Unauthorized", "the API key is not valid", {
        headers: { ...headers, "WWW-Authenticate": `${REALM}, error="invalid_token"` },
      });
}

export function apiKeyAuth(options: ApiKeyOptions): MiddlewareHandler<{ Variables: { caller: Caller } }> {
  const envKeys = options.keys.map((k) => Buffer.from(hashApiKey(k), "hex"));

  /** Open: no API_KEYS, no active key in the table, and a loopback listener. */
  async function isOpen(): Promise<boolean> {
    if (!options.allowOpen || envKeys.length > 0) return false;
    return options.store ? !(await options.store.anyActive()) : true;
  }

  async function identify(c: Context): Promise<Identity> {
    const bucket = `addr:${sourceAddress(c)}`;
    const header = c.req.header("authorization");
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) {
      const hash = hashApiKey(match[1]!);
      const given = Buffer.from(hash, "hex");
      let fromEnv = false;
      for (const h of envKeys) fromEnv = timingSafeEqual(h, given) || fromEnv;
      if (fromEnv) return { caller: { keyId: null, scope: "admin" }, bucket: `env:${hash.slice(0, 16)}` };
      if (options.store) {
        // A key not in the cache costs one indexed lookup (unknown keys are cached too). No shortcut on the caller's
        // address: behind a proxy every caller shares one, and made-up keys must not lock real ones out.
        const known = await options.store.find(hash);
        if (known) return { caller: { keyId: known.id, scope: known.scope }, bucket: `key:${known.id}` };
      }
    }
    if (await isOpen()) return { caller: { keyId: null, scope: "admin" }, bucket };
    return { caller: null, bucket, reason: match ? "invalid" : "missing" };
  }

  return async function apiKeyAuthMiddleware(c, next) {
    const identity = await identify(c);
    const decision = options.limiter?.take(identity.bucket) ?? null;
    const headers = decision ? rateLimitHeaders(decision) : {};
    if (decision && !decision.allowed) {
      throw new ProblemError(429, "Too many requests", `too many requests from this caller; retry after ${decision.retryAfterSeconds} s`, {
        headers,
      });
    }
    if (identity.caller === null) throw unauthorized(identity.reason, headers);
    c.set("caller", identity.caller);
    await next();
    setHeaders(c, headers);
  };
}

/** Sets headers on the answer, whatever made it (a handler, the error handler, not-found). */
function setHeaders(c: Context, headers: Record<string, string>): void {
  try {
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  } catch {
    // immutable headers (a fetched Response): copy the answer
    const res = new Response(c.res.body, c.res);
    for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
    c.res = res;
  }
}

/** Route middleware: the caller's key must have `scope` (or a higher one); 403 otherwise. */
export function requireScope(scope: Scope): MiddlewareHandler<{ Variables: { caller: Caller } }> {
  return async function requireScopeMiddleware(c, next) {
    const caller = c.get("caller");
    if (!caller || SCOPES.indexOf(caller.scope) < SCOPES.indexOf(scope)) {
      throw new ProblemError(403, "Forbidden", `this route needs an API key with the "${scope}" scope`);
    }
    await next();
  };
}
