// The group-commit writer. Concurrent requests share transactions: the next batch is sent as soon as the previous
// commit returns (and at once when a batch is full); there is no timer. A request's promise settles only after
// the transaction holding it committed, so the HTTP answer can never acknowledge something not stored.
//
// Failures: a lost connection, a timeout or any other trouble of the database's fails the whole batch (503, SMSC
// retries). A deadlock or serialization failure retries the batch after a short pause. An error in the data of a
// request (SQLSTATE classes 22, 23, 42) retries the batch request by request, so one bad request never blocks the
// others; a request whose derived rows still fail that way is stored raw with the error.
import { isConnectionError, isDataError, isRetryableTxError, type Database } from "../db/client.js";
import { contendedKeys, storeCallbacks, storeRawOnly, type CallbackRecord, type StoreOutcome } from "./store.js";

/** A short, jittered pause before retrying a transaction that lost a deadlock or serialization race. */
function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt + Math.random() * 10));
}

/** The writer cannot take the request now: answer 503 with Retry-After. */
export class WriterUnavailableError extends Error {
  constructor(
    readonly reason: "queue_full" | "database_unavailable" | "shutting_down",
    options?: { cause?: unknown },
  ) {
    super(`writer unavailable: ${reason}`, options);
    this.name = "WriterUnavailableError";
  }
}

type Pending = { record: CallbackRecord; resolve: (o: StoreOutcome) => void; reject: (e: unknown) => void; keys?: string[] };

/** A transaction unsettled after this long is stuck (a connection the network lost without a word). */
export const STUCK_TRANSACTION_MS = 30_000;

export type WriterOptions = {
  maxBatch: number;
  maxQueue: number;
  /** Batches written at once, each in its own transaction (default 1). */
  concurrency?: number;
  /** Keep statistics rollups current (default true; off only to measure what they cost). */
  rollups?: boolean;
  /** A transaction still unsettled after this long is given up as unavailable (default STUCK_TRANSACTION_MS). */
  transactionTimeoutMs?: number;
  /** How many times a batch is retried after a deadlock or serialization failure. */
  txRetries?: number;
  clock?: () => Date;
  onBatch?: (info: { size: number; ms: number; ok: boolean }) => void;
  onError?: (err: unknown, context: string) => void;
};

export class Writer {
  private queue: Pending[] = [];
  /** Keys (`contendedKeys`) of the batches being written, with how many of their requests hold each. */
  private inFlight = new Map<string, number>();
  private active = 0;
  private starting = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly clock: () => Date;
  private readonly concurrency: number;

  constructor(
    private readonly db: Database,
    private readonly options: WriterOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.concurrency = Math.max(1, options.concurrency ?? 1);
  }

  /** Requests waiting or being written. */
  get depth(): number {
    return this.queue.length;
  }

  get isFull(): boolean {
    return this.queue.length >= this.options.maxQueue;
  }

  /** Stores one callback; resolves after COMMIT. Rejects with WriterUnavailableError when it cannot be stored now. */
  submit(record: CallbackRecord): Promise<StoreOutcome> {
    if (this.closed) return Promise.reject(new WriterUnavailableError("shutting_down"));
    if (this.queue.length >= this.options.maxQueue) return Promise.reject(new WriterUnavailableError("queue_full"));
    return new Promise<StoreOutcome>((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      this.kick();
    });
  }

  /**
   * Stores records now, in one transaction with the writer's failure rules, outside the queue (bulk import: it
   * has its own flow control and must not crowd out SMSC's callbacks).
   */
  async storeNow(records: readonly CallbackRecord[]): Promise<StoreOutcome[]> {
    if (this.closed) throw new WriterUnavailableError("shutting_down");
    const pending = records.map((record) => {
      let resolve!: (o: StoreOutcome) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<StoreOutcome>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const item: Pending = { record, resolve, reject };
      return { item, promise };
    });
    const batch = pending.map((p) => p.item);
    this.hold(batch); // like a lane's batch: lanes leave the same callbacks and messages for after it
    try {
      await this.writeBatch(batch);
    } finally {
      this.release(batch);
      this.kick(); // requests held back for it
    }
    return Promise.all(pending.map((p) => p.promise));
  }

  /** Stops taking new requests and waits until everything queued has been written. */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.active === 0 && !this.starting && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Starts another lane when there is work and a free one. Each lane writes one batch at a time and takes the next
   * as soon as its commit returns; with several lanes, requests that arrive while one batch commits go out in the
   * next lane's transaction instead of waiting.
   */
  private kick(): void {
    if (this.starting || this.active >= this.concurrency || this.queue.length === 0) return;
    this.starting = true;
    // Let the requests that arrive in this tick join the batch, then write.
    setImmediate(() => {
      this.starting = false;
      void this.lane();
    });
  }

  private async lane(): Promise<void> {
    this.active++;
    try {
      for (;;) {
        const { batch, more } = this.take();
        if (batch.length === 0) break;
        if (more) this.kick(); // more queued than this batch could take: another lane can start
        try {
          await this.writeBatch(batch);
        } finally {
          this.release(batch);
        }
      }
    } finally {
      this.active--;
      // Requests left only because another batch holds their keys are taken by whoever releases those keys; a lane
      // started for them now would find nothing and start another, and so on.
      if (this.queue.length > 0 && this.inFlight.size === 0) this.kick();
      else if (this.active === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /**
   * The next batch, in arrival order: up to `maxBatch` queued requests whose keys no other lane is writing. The
   * others wait for a later batch: in this one they would only wait for the other lane's commit, row lock by row
   * lock, and hold up everything else in it.
   */
  private take(): { batch: Pending[]; more: boolean } {
    if (this.inFlight.size === 0) {
      // Nothing held: the oldest requests, as many as fit.
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.hold(batch);
      return { batch, more: this.queue.length > 0 };
    }
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    let more = false; // left out only because the batch was full
    for (const p of this.queue) {
      const held = this.keysOf(p).some((k) => this.inFlight.has(k));
      if (!held && batch.length < this.options.maxBatch) batch.push(p);
      else {
        more ||= !held;
        rest.push(p);
      }
    }
    this.queue = rest;
    this.hold(batch);
    return { batch, more };
  }

  /** A request's `contendedKeys`, worked out once (none with one lane: there is no other to keep apart from). */
  private keysOf(p: Pending): string[] {
    return (p.keys ??= this.concurrency === 1 ? [] : contendedKeys(p.record));
  }

  private hold(batch: readonly Pending[]): void {
    for (const p of batch) for (const k of this.keysOf(p)) this.inFlight.set(k, (this.inFlight.get(k) ?? 0) + 1);
  }

  private release(batch: readonly Pending[]): void {
    for (const p of batch) {
      for (const k of p.keys!) {
        const n = this.inFlight.get(k)! - 1;
        if (n === 0) this.inFlight.delete(k);
        else this.inFlight.set(k, n);
      }
    }
  }

  /**
   * A transaction that has not settled within `transactionTimeoutMs` is given up as unavailable (503): a connection
   * the network lost without a word must not hold a lane, and its requests, forever. Every connection is then
   * discarded (the driver, postgres.js, can leave one waiting for ever after a cut; kept, it would never return to
   * the pool), so statements in flight fail and the next ones run on fresh connections. Had it committed in the
   * meantime, SMSC's retry of those requests is a duplicate and changes nothing.
   */
  private bounded<T>(work: Promise<T>): Promise<T> {
    const ms = this.options.transactionTimeoutMs ?? STUCK_TRANSACTION_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = Object.assign(new Error(`transaction did not settle within ${ms} ms; connections discarded`), { code: "CONNECT_TIMEOUT" });
        this.options.onError?.(err, "stuck transaction");
        this.db.discardConnections().catch((e: unknown) => this.options.onError?.(e, "discarding connections"));
        reject(err);
      }, ms);
    });
    work.catch(() => {}); // settled later or never: nobody waits on it once the timeout won
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    const started = performance.now();
    const retries = this.options.txRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        const outcomes = await this.bounded(this.db.transaction((tx) => storeCallbacks(tx, batch.map((p) => p.record), this.clock(), { rollups: this.options.rollups ?? true })));
        this.options.onBatch?.({ size: batch.length, ms: performance.now() - started, ok: true });
        batch.forEach((p, i) => p.resolve(outcomes[i]!));
        return;
      } catch (err) {
        if (isConnectionError(err) || (!isDataError(err) && !isRetryableTxError(err))) {
          this.options.onError?.(err, "batch: database unavailable");
          this.options.onBatch?.({ size: batch.length, ms: performance.now() - started, ok: false });
          const unavailable = new WriterUnavailableError("database_unavailable", { cause: err });
          for (const p of batch) p.reject(unavailable);
          return;
        }
        if (isRetryableTxError(err) && attempt < retries) {
          await backoff(attempt);
          continue;
        }
        this.options.onError?.(err, "batch failed; retrying request by request");
        break;
      }
    }
    for (const p of batch) await this.writeOne(p);
  }

  private async writeOne(p: Pending): Promise<void> {
    const retries = this.options.txRetries ?? 3;
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const [outcome] = await this.bounded(this.db.transaction((tx) => storeCallbacks(tx, [p.record], this.clock(), { rollups: this.options.rollups ?? true })));
        p.resolve(outcome!);
        return;
      } catch (err) {
        lastError = err;
        if (isDataError(err)) break;
        if (!isRetryableTxError(err) || attempt === retries) {
          return p.reject(new WriterUnavailableError("database_unavailable", { cause: err }));
        }
        await backoff(attempt);
      }
    }
    this.options.onError?.(lastError, "request could not be derived; storing it raw");
    try {
      const message = lastError instanceof Error ? lastError.message : String(lastError);
      const outcome = await this.bounded(this.db.transaction((tx) => storeRawOnly(tx, p.record, { code: "store_failed", message })));
      p.resolve(outcome);
    } catch (err) {
      this.options.onError?.(err, "request could not be stored raw");
      p.reject(new WriterUnavailableError("database_unavailable", { cause: err }));
    }
  }
}
