// API keys for tests, made in the table as `keys create` makes them.
import { hashApiKey, type Scope } from "../../src/api/auth.js";
import { generateApiKey } from "../../src/cli/keys-command.js";
import type { Database } from "../../src/db/client.js";
import { insertApiKey } from "../../src/db/queries/api-keys.js";

/** Makes a key with `scope`; returns its secret and id. */
export async function makeKey(db: Database, scope: Scope, options: { name?: string; createdAt?: Date } = {}): Promise<{ id: string; key: string }> {
  const made = generateApiKey();
  await insertApiKey(db, { id: made.id, name: options.name ?? `test-${scope}`, scope, keyHash: hashApiKey(made.key), createdAt: options.createdAt ?? new Date() });
  return made;
}

export const bearer = (key: string, headers: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, ...headers });
