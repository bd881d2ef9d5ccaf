// One interface over both drivers: postgres.js against a Postgres server (DATABASE_URL), or embedded PGlite.
// The rest of the code does not know which it got. Queries are parameterised SQL (`$1`, `$2`, ...).
import fs from "node:fs";
import path from "node:path";

export type Row = Record<string, unknown>;

/** A json/jsonb column's value: postgres.js parses it, PGlite may hand back the text. */
export const jsonColumn = <T = unknown>(v: T | string | null): T | null => (typeof v === "string" ? (JSON.parse(v) as T) : v);

/**
 * The distinct values of a list as a Postgres array literal, to pass as one parameter typed in the statement
 * (`= ANY($1::text[])`, `$1::bigint[]`). Unlike a JSON list unpacked in SQL, the planner sees the values: it can count
 * them and probe an index or a hash.
 */
export const arrayParam = (values: Iterable<string | number>): string =>
  `{${[...new Set(values)].map((v) => (typeof v === "number" ? String(v) : `"${v.replace(/[\\"]/g, "\\$&")}"`)).join(",")}}`;

export type QueryOptions = {
  /**
   * false: plan the statement afresh with this call's values instead of reusing a prepared plan (postgres.js).
   * For writes into tables that grow fast: Postgres keeps a generic plan made while the table was small (a
   * sequential scan) until the next ANALYZE, and a batch then scans the whole table. The price is planning on every
   * call. (Unpatched postgres.js also asks for the parameter types first, one more round trip that held up every
   * statement pipelined behind it; patches/ makes it send the statement at once with the types inferred from the
   * values. So pass Dates, booleans, null, and strings or numbers only where Postgres reads their text: text,
   * numeric types, `$n::text::json`, arrayParam's `$n::text[]`/`$n::bigint[]`; never JS arrays or objects.)
   */
  prepare?: boolean;
};

export interface Sql {
  /** Runs one parameterised statement and returns its rows. */
  query<T extends Row = Row>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<T[]>;
}

export interface Database extends Sql {
  readonly driver: "postgres" | "pglite";
  /** Runs `fn` in one transaction: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /**
   * Closes every connection now (statements in flight fail) and opens fresh ones as they are needed: the way out
   * when a connection is stuck in a state the driver never leaves. Calls made while one is under way share it. A
   * no-op on the embedded database.
   */
  discardConnections(): Promise<void>;
  close(): Promise<void>;
}

export type DbConfig = {
  databaseUrl: string | undefined;
  pgliteDir: string;
  /** Connections for statements outside a transaction (DATABASE_POOL_SIZE); default DEFAULT_POOL_SIZE. */
  poolSize?: number | undefined;
  /** Connections for transactions; default TRANSACTION_POOL_SIZE. */
  transactionPoolSize?: number | undefined;
};

/**
 * Connections for statements outside a transaction, by default. postgres.js pipelines statements on a busy
 * connection, so two carry any number of concurrent requests from one Node process (one thread); more backends only
 * make Postgres switch between them (on two cores, a number lookup cost Postgres about three times the CPU with ten
 * connections as with two; see the README's benchmark notes). More help when long statements (statistics over
 * months, hygiene batches) share the pool with lookups and Postgres has cores to spare: DATABASE_POOL_SIZE.
 */
export const DEFAULT_POOL_SIZE = 2;

/**
 * Transactions (the writer's lanes, registrations, imports, erasures, replay, migrations) have connections of their
 * own, opened as needed up to this many by default, so that a lane holding a connection never keeps a lookup waiting.
 */
export const TRANSACTION_POOL_SIZE = 10;

/** Room for every writer lane and a few other transactions (registrations, imports) at once. */
export const transactionPoolFor = (writerLanes: number): number => Math.max(TRANSACTION_POOL_SIZE, writerLanes + 4);

/** The embedded database is already open in another process. */
export class DatabaseLockedError extends Error {
  constructor(readonly lockFile: string) {
    super(`the embedded database in ${lockFile.replace(/\.lock$/, "")} is in use by another process: stop the server or set DATABASE_URL`);
    this.name = "DatabaseLockedError";
  }
}

export async function createDb(config: DbConfig): Promise<Database> {
  return config.databaseUrl
    ? createPostgresDb(config.databaseUrl, config.poolSize ?? DEFAULT_POOL_SIZE, config.transactionPoolSize ?? TRANSACTION_POOL_SIZE)
    : createPgliteDb(config.pgliteDir);
}

async function createPostgresDb(url: string, poolSize: number, transactionPoolSize: number): Promise<Database> {
  const { default: postgres } = await import("postgres");
  const open = (max: number) =>
    postgres(url, {
      max,
      connect_timeout: 5,
      idle_timeout: 60,
      max_lifetime: 60 * 30,
      onnotice: () => {},
      connection: { application_name: "smsc-hub" },
    });
  const connect = () => ({ queries: open(poolSize), transactions: open(transactionPoolSize) });
  let clients = connect();
  let discarding: Promise<void> | null = null;
  type Unsafe = { unsafe(text: string, params?: never[], options?: { prepare?: boolean }): PromiseLike<unknown> };
  const wrap = (c: () => Unsafe): Sql => ({
    query: async <T extends Row>(text: string, params: readonly unknown[] = [], options?: QueryOptions) =>
      (await c().unsafe(text, params as never[], { prepare: options?.prepare ?? true })) as T[],
  });
  const root = wrap(() => clients.queries as unknown as Unsafe);
  return {
    driver: "postgres",
    query: root.query,
    transaction: async <T>(fn: (tx: Sql) => Promise<T>) => {
      // Once the transaction is over (committed, rolled back, or its connection lost), `fn` may still be running:
      // its later statements must not go out on a connection the pool may already have given to someone else.
      let over = false;
      try {
        return (await clients.transactions.begin((tx) => {
          const inner = wrap(() => tx as unknown as Unsafe);
          return fn({ query: (text, params, options) => (over ? Promise.reject(Object.assign(new Error("the transaction is over"), { code: "CONNECTION_ENDED" })) : inner.query(text, params, options)) });
        })) as T;
      } finally {
        over = true;
      }
    },
    // Callers that find connections stuck at the same moment (a writer lane, a readiness check) share one discard:
    // a second one would only end the fresh connections the first has just opened.
    discardConnections: () =>
      (discarding ??= (async () => {
        const old = clients;
        clients = connect();
        await Promise.all([old.queries.end({ timeout: 0 }), old.transactions.end({ timeout: 0 })]);
      })().finally(() => {
        discarding = null;
      })),
    exec: async (script) => {
      await clients.queries.unsafe(script);
    },
    close: async () => {
      await Promise.all([clients.queries.end({ timeout: 5 }), clients.transactions.end({ timeout: 5 })]);
    },
  };
}

async function createPgliteDb(dir: string): Promise<Database> {
  const dataDir = path.resolve(dir);
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  const releaseLock = acquireDirLock(`${dataDir}.lock`);
  try {
    const { PGlite } = await import("@electric-sql/pglite");
    const pg = await PGlite.create({ dataDir });
    return wrapPglite(pg, releaseLock);
  } catch (err) {
    releaseLock();
    throw err;
  }
}

/** An in-memory PGlite database (tests). */
export async function createMemoryDb(): Promise<Database> {
  const { PGlite } = await import("@electric-sql/pglite");
  return wrapPglite(await PGlite.create(), () => {});
}

type PgliteLike = {
  query<T>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
  exec(text: string): Promise<unknown>;
  transaction<T>(fn: (tx: { query<R>(text: string, params?: unknown[]): Promise<{ rows: R[] }> }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
};

function wrapPglite(pg: PgliteLike, release: () => void): Database {
  // PGlite has one connection: a transaction holds it, so statements outside it wait (PGlite queues them).
  return {
    driver: "pglite",
    query: async <T extends Row>(text: string, params: readonly unknown[] = []) => (await pg.query<T>(text, [...params])).rows,
    transaction: (fn) =>
      pg.transaction((tx) =>
        fn({ query: async <T extends Row>(text: string, params: readonly unknown[] = []) => (await tx.query<T>(text, [...params])).rows }),
      ),
    exec: async (script) => {
      await pg.exec(script);
    },
    discardConnections: async () => {},
    close: async () => {
      try {
        await pg.close();
      } finally {
        release();
      }
    },
  };
}

/**
 * A lock file beside the embedded database's folder: only one process may open it. A lock left by a process
 * that no longer runs is taken over.
 */
function acquireDirLock(lockFile: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockFile, "wx");
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          fs.unlinkSync(lockFile);
        } catch {
          // already gone
        }
        process.off("exit", release);
      };
      process.on("exit", release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(fs.readFileSync(lockFile, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) throw new DatabaseLockedError(lockFile);
      fs.rmSync(lockFile, { force: true }); // stale: its process is gone
    }
  }
  throw new DatabaseLockedError(lockFile);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Errors that mean the database cannot be reached (as opposed to a bad statement). */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; errno?: unknown; message?: unknown } | null;
  if (!e || typeof e !== "object") return false;
  const code = typeof e.code === "string" ? e.code : "";
  if (
    [
      "ECONNREFUSED",
      "ECONNRESET",
      "EPIPE",
      "ETIMEDOUT",
      "ENOTFOUND",
      "EHOSTUNREACH",
      "CONNECTION_CLOSED",
      "CONNECTION_ENDED",
      "CONNECTION_DESTROYED",
      "CONNECT_TIMEOUT",
    ].includes(code)
  )
    return true;
  // SQLSTATE class 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now)
  return /^08/.test(code) || ["57P01", "57P02", "57P03", "53300"].includes(code);
}

/** Errors worth retrying the same transaction for: deadlock, serialization failure. */
export function isRetryableTxError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "40P01" || code === "40001";
}

/**
 * Errors that lie in the data of one request (a value out of range, a constraint, a statement our code built
 * wrongly): retrying would not help, so the request is stored raw with the error. Anything else (timeouts, lack of
 * resources, lock waits, a crash) is the database's trouble: the request gets 503 and SMSC retries it.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|23|42)/.test(code);
}
