// Token buckets for /v1, one per caller, per process: each holds up to `burst` tokens and refills at `ratePerSec`;
// a request takes one token or is refused (429). The clock is injected, so tests drive it without sleeping.
//
// Memory stays bounded: a bucket that has refilled to full is the same as no bucket, so idle buckets are dropped
// as they are met (the least recently used first), and past `maxBuckets` the least recently used is dropped
// whatever its level (which only ever lets its caller start again from a full bucket).

export type RateLimiterOptions = {
  ratePerSec: number;
  burst: number;
  /** Milliseconds; any monotonic-enough clock (the app's `deps.clock`). */
  now: () => number;
  /** At most this many buckets are kept (default 10,000). */
  maxBuckets?: number;
};

/** What one request got: the numbers for the RateLimit-* headers and, when refused, for Retry-After. */
export type RateDecision = {
  allowed: boolean;
  /** The bucket's capacity (RateLimit-Limit). */
  limit: number;
  /** Whole tokens left after this request (RateLimit-Remaining). */
  remaining: number;
  /** Seconds until the bucket is full again (RateLimit-Reset). */
  resetSeconds: number;
  /** Seconds until one token is available (Retry-After); 0 when allowed. */
  retryAfterSeconds: number;
};

type Bucket = { tokens: number; at: number };

/** Float dust: 500 ms at 2/s may add up to 0.9999999999999999 tokens, which is one. */
const EPSILON = 1e-9;

/** How many idle buckets one call looks at (from the least recently used end). */
const SWEEP_PER_CALL = 2;

export class RateLimiter {
  readonly limit: number;
  private readonly rate: number;
  private readonly now: () => number;
  private readonly maxBuckets: number;
  /** Insertion order is recency order: a bucket is re-inserted each time it is used. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: RateLimiterOptions) {
    if (!(options.ratePerSec > 0) || !(options.burst >= 1)) throw new RangeError("ratePerSec must be > 0 and burst >= 1");
    this.rate = options.ratePerSec / 1000; // tokens per millisecond
    this.limit = Math.floor(options.burst);
    this.now = options.now;
    this.maxBuckets = Math.max(1, options.maxBuckets ?? 10_000);
  }

  /** Takes one token from `key`'s bucket, if it has one. */
  take(key: string): RateDecision {
    const now = this.now();
    const bucket = this.buckets.get(key);
    let tokens = bucket ? this.level(bucket, now) : this.limit;
    this.buckets.delete(key);
    this.sweep(now);
    const allowed = tokens >= 1 - EPSILON;
    if (allowed) tokens = Math.max(0, tokens - 1);
    this.buckets.set(key, { tokens, at: now });
    while (this.buckets.size > this.maxBuckets) {
      const oldest = this.buckets.keys().next().value as string;
      this.buckets.delete(oldest);
    }
    return {
      allowed,
      limit: this.limit,
      remaining: Math.floor(tokens + EPSILON),
      resetSeconds: this.secondsUntil(this.limit, tokens),
      retryAfterSeconds: allowed ? 0 : Math.max(1, this.secondsUntil(1, tokens)),
    };
  }

  /** How many buckets are kept (tests, metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** Whole seconds until a bucket at `tokens` holds `target` (rounded up; float dust ignored). */
  private secondsUntil(target: number, tokens: number): number {
    const missing = target - tokens;
    return missing <= EPSILON ? 0 : Math.ceil(missing / this.rate / 1000 - EPSILON);
  }

  private level(bucket: Bucket, now: number): number {
    return Math.min(this.limit, bucket.tokens + Math.max(0, now - bucket.at) * this.rate);
  }

  /**
   * Looks at up to SWEEP_PER_CALL of the least recently used buckets and drops those that have refilled to full,
   * stopping at the first that has not: cheap, and enough to keep pace with new buckets being made.
   */
  private sweep(now: number): void {
    let looked = 0;
    for (const [key, bucket] of this.buckets) {
      if (looked++ >= SWEEP_PER_CALL) break;
      if (this.level(bucket, now) >= this.limit - EPSILON) this.buckets.delete(key);
      else break;
    }
  }
}

/** The RateLimit-* headers (draft-ietf-httpapi-ratelimit-headers), plus Retry-After when refused. */
export function rateLimitHeaders(d: RateDecision): Record<string, string> {
  const headers: Record<string, string> = {
    "RateLimit-Limit": String(d.limit),
    "RateLimit-Remaining": String(d.remaining),
    "RateLimit-Reset": String(d.resetSeconds),
  };
  if (!d.allowed) headers["Retry-After"] = String(d.retryAfterSeconds);
  return headers;
}
