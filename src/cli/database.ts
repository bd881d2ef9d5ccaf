// The database a CLI command works on: the service's own (DATABASE_URL, else the embedded PGlite folder), with
// migrations applied. A folder held by a running server is exit code 2 with the lock message.
import { DatabaseLockedError, type Database } from "../db/client.js";
import { migrate } from "../db/migrate.js";

export type OpenDb = () => Promise<Database>;

async function openFromConfig(): Promise<Database> {
  const { loadConfig } = await import("../config.js");
  const { createDb } = await import("../db/client.js");
  return createDb(loadConfig());
}

/** Runs `fn` on the migrated database and closes it; returns fn's exit code (2 when the folder is locked). */
export async function withCliDatabase(
  stderr: NodeJS.WritableStream,
  fn: (db: Database) => Promise<number>,
  openDb: OpenDb = openFromConfig,
): Promise<number> {
  let db: Database;
  try {
    db = await openDb();
  } catch (err) {
    if (err instanceof DatabaseLockedError) {
      stderr.write(`smsc-hub: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  try {
    const { applied, total } = await migrate(db);
    if (applied.length > 0) stderr.write(`migrations: ${applied.length} applied, ${total} in all (${applied.join(", ")})\n`);
    return await fn(db);
  } finally {
    await db.close();
  }
}
