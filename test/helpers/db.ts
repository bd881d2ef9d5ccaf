// A fresh database per test suite: with DATABASE_URL, a new database on that server (dropped afterwards);
// without it, an in-memory PGlite. Migrations are applied either way.
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { createDb, createMemoryDb, type Database } from "../../src/db/client.js";
import { migrate } from "../../src/db/migrate.js";

export type TestDatabase = { db: Database; url: string | undefined; drop: () => Promise<void> };

export const serverUrl = (): string | undefined => process.env.DATABASE_URL || undefined;

/** Creates an empty database on the server and returns its URL (no migrations). */
export async function createServerDatabase(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `smsc_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = postgres(baseUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  if (!serverUrl()) {
    const db = await createMemoryDb();
    await migrate(db);
    return { db, url: undefined, drop: () => db.close() };
  }
  return createServerTestDatabase(options);
}

/**
 * A new, migrated database on the server (DATABASE_URL), opened with these pool sizes: for the tests of the server
 * driver itself (the faults project, which always has a server).
 */
export async function createServerTestDatabase(
  options: { poolSize?: number; transactionPoolSize?: number } = {},
): Promise<TestDatabase & { url: string }> {
  const base = serverUrl();
  if (!base) throw new Error("these tests need a Postgres server: set DATABASE_URL");
  const created = await createServerDatabase(base);
  const db = await createDb({ databaseUrl: created.url, pgliteDir: "", poolSize: options.poolSize ?? 5, transactionPoolSize: options.transactionPoolSize });
  await migrate(db);
  return {
    db,
    url: created.url,
    drop: async () => {
      await db.close();
      await created.drop();
    },
  };
}
