// Applies the SQL migrations drizzle-kit wrote in migrations/, in journal order, in one transaction under an
// advisory lock, so that several instances starting together apply each migration once.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Database } from "./client.js";

/** migrations/ at the package root: the same relative place from src/db and from dist/db. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url));

const LOCK_ID = 0x5_3c_4b; // arbitrary, fixed: "smsc-hub migrations"

type Journal = { entries: { idx: number; tag: string }[] };

export type MigrationResult = { applied: string[]; total: number };

export async function migrate(db: Database, dir: string = MIGRATIONS_DIR): Promise<MigrationResult> {
  const journal = JSON.parse(fs.readFileSync(path.join(dir, "meta", "_journal.json"), "utf8")) as Journal;
  const entries = [...journal.entries].sort((a, b) => a.idx - b.idx);
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [LOCK_ID]);
    await tx.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (tag text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const done = new Set((await tx.query<{ tag: string }>("SELECT tag FROM schema_migrations")).map((r) => r.tag));
    const applied: string[] = [];
    for (const entry of entries) {
      if (done.has(entry.tag)) continue;
      const script = fs.readFileSync(path.join(dir, `${entry.tag}.sql`), "utf8");
      for (const statement of script.split("--> statement-breakpoint")) {
        if (statement.trim()) await tx.query(statement);
      }
      await tx.query("INSERT INTO schema_migrations (tag) VALUES ($1)", [entry.tag]);
      applied.push(entry.tag);
    }
    return { applied, total: entries.length };
  });
}

const journalTags = new Map<string, string[]>();

/** True when every migration in the journal has been applied (false before the first one). */
export async function isMigrated(db: Database, dir: string = MIGRATIONS_DIR): Promise<boolean> {
  let tags = journalTags.get(dir);
  if (!tags) {
    const journal = JSON.parse(fs.readFileSync(path.join(dir, "meta", "_journal.json"), "utf8")) as Journal;
    tags = journal.entries.map((e) => e.tag);
    journalTags.set(dir, tags);
  }
  try {
    const rows = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM schema_migrations WHERE tag = ANY(string_to_array($1, ','))",
      [tags.join(",")],
    );
    return rows[0]?.n === tags.length;
  } catch (err) {
    if ((err as { code?: unknown }).code === "42P01") return false; // no schema_migrations table yet
    throw err;
  }
}
