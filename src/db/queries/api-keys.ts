// API keys for /v1. Only the SHA-256 hash of a key is stored (hex); the key itself is shown once, by
// `keys create`, and never again. A revoked key keeps its row (with `revoked_at`) so `keys list` can show it.
import type { Sql } from "../client.js";

export type ApiKeyRow = {
  id: string;
  name: string;
  scope: string;
  createdAt: Date;
  revokedAt: Date | null;
};

export type NewApiKey = { id: string; name: string; scope: string; keyHash: string; createdAt: Date };

type DbRow = { id: string; name: string; scope: string; created_at: Date | string; revoked_at: Date | string | null };

const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

const toRow = (r: DbRow): ApiKeyRow => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  createdAt: toDate(r.created_at),
  revokedAt: r.revoked_at === null ? null : toDate(r.revoked_at),
});

export async function insertApiKey(db: Sql, key: NewApiKey): Promise<void> {
  await db.query("INSERT INTO api_keys (id, name, scope, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)", [
    key.id,
    key.name,
    key.scope,
    key.keyHash,
    key.createdAt,
  ]);
}

/** Every key, revoked ones included, oldest first. Never the hash. */
export async function listApiKeys(db: Sql): Promise<ApiKeyRow[]> {
  const rows = await db.query<DbRow>("SELECT id, name, scope, created_at, revoked_at FROM api_keys ORDER BY created_at, id");
  return rows.map(toRow);
}

/**
 * Marks a key revoked. Returns the key as it now is (an already revoked key keeps its first `revoked_at`) and
 * whether it was revoked before; null when there is no key with that id.
 */
export async function revokeApiKey(db: Sql, id: string, at: Date): Promise<{ key: ApiKeyRow; alreadyRevoked: boolean } | null> {
  const rows = await db.query<DbRow & { already_revoked: boolean }>(
    `WITH old AS (SELECT id, revoked_at FROM api_keys WHERE id = $1 FOR UPDATE)
     UPDATE api_keys k SET revoked_at = coalesce(old.revoked_at, $2) FROM old WHERE k.id = old.id
     RETURNING k.id, k.name, k.scope, k.created_at, k.revoked_at, old.revoked_at IS NOT NULL AS already_revoked`,
    [id, at],
  );
  return rows[0] ? { key: toRow(rows[0]), alreadyRevoked: rows[0].already_revoked } : null;
}

/** The active (not revoked) key with this SHA-256 hex hash, or null. */
export async function findActiveApiKeyByHash(db: Sql, keyHash: string): Promise<{ id: string; scope: string } | null> {
  const rows = await db.query<{ id: string; scope: string }>(
    "SELECT id, scope FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    [keyHash],
  );
  return rows[0] ?? null;
}

/** How many keys are active (not revoked). */
export async function countActiveApiKeys(db: Sql): Promise<number> {
  const rows = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM api_keys WHERE revoked_at IS NULL");
  return rows[0]?.n ?? 0;
}
