// `smsc-hub keys create|list|revoke`: API keys for /v1, in the database the service uses (DATABASE_URL, or the
// embedded PGlite folder, which must not be open in a running server). Migrations are applied first when needed.
//   keys create --name NAME [--scope read|write|admin]   prints the new key, and only it, on standard output, once
//   keys list                                            one JSON object per key and line (never the key or its hash)
//   keys revoke ID                                       running servers stop accepting it within 30 s
// Exit codes: 0 done; 1 no key with that id (revoke); 2 usage errors, or the embedded database is in use.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { API_KEY_CACHE_TTL_MS, hashApiKey, isScope, SCOPES, type Scope } from "../api/auth.js";
import type { Database } from "../db/client.js";
import { withCliDatabase } from "./database.js";
import { insertApiKey, listApiKeys, revokeApiKey } from "../db/queries/api-keys.js";

export const KEYS_USAGE = `usage: smsc-hub keys <create|list|revoke>
  keys create --name NAME [--scope read|write|admin]   make a key (default scope read); prints only the key
  keys list                                            list keys as JSON lines (id, name, scope, created_at, revoked_at)
  keys revoke ID                                       revoke a key
`;

export type KeysIo = {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Opens the service's database (default: from the environment, like `migrate`). */
  openDb?: () => Promise<Database>;
  now?: () => Date;
};

type Parsed =
  | { command: "create"; name: string; scope: Scope }
  | { command: "list" }
  | { command: "revoke"; id: string }
  | { error: string };

const NAME = /^[^\p{Cc}]{1,100}$/u;

function parseKeysArgs(args: readonly string[]): Parsed {
  const [command, ...rest] = args;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { name: { type: "string" }, scope: { type: "string" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    return { error: (err as Error).message };
  }
  const { values, positionals } = parsed;
  switch (command) {
    case "create": {
      if (positionals.length > 0) return { error: `unexpected argument "${positionals[0]}"` };
      const name = values.name?.trim();
      if (!name) return { error: "--name is required" };
      if (!NAME.test(name)) return { error: "--name must be 1 to 100 characters, without control characters" };
      const scope = values.scope ?? "read";
      if (!isScope(scope)) return { error: `--scope must be one of ${SCOPES.join(", ")} (got "${scope}")` };
      return { command, name, scope };
    }
    case "list":
      if (values.name !== undefined || values.scope !== undefined || positionals.length > 0) return { error: "list takes no arguments" };
      return { command };
    case "revoke":
      if (values.name !== undefined || values.scope !== undefined) return { error: "revoke takes only a key id" };
      if (positionals.length !== 1 || !positionals[0]) return { error: "revoke needs exactly one key id (see `keys list`)" };
      return { command, id: positionals[0] };
    case undefined:
      return { error: "a keys command is required" };
    default:
      return { error: `unknown keys command "${command}"` };
  }
}

/** A new key: `shk_` and 32 random bytes in base64url. */
export function generateApiKey(): { id: string; key: string } {
  return { id: `key_${randomBytes(6).toString("hex")}`, key: `shk_${randomBytes(32).toString("base64url")}` };
}

export async function runKeys(args: readonly string[], io: KeysIo): Promise<number> {
  const parsed = parseKeysArgs(args);
  if ("error" in parsed) {
    io.stderr.write(`smsc-hub keys: ${parsed.error}\n${KEYS_USAGE}`);
    return 2;
  }
  const now = io.now ?? (() => new Date());
  return withCliDatabase(io.stderr, async (db) => {
    switch (parsed.command) {
      case "create": {
        const { id, key } = generateApiKey();
        await insertApiKey(db, { id, name: parsed.name, scope: parsed.scope, keyHash: hashApiKey(key), createdAt: now() });
        io.stdout.write(`${key}\n`);
        io.stderr.write(`created ${id} ("${parsed.name}", scope ${parsed.scope}). The key above is shown only this once: store it now.\n`);
        return 0;
      }
      case "list": {
        for (const k of await listApiKeys(db)) {
          const line = {
            id: k.id,
            name: k.name,
            scope: k.scope,
            created_at: k.createdAt.toISOString(),
            revoked_at: k.revokedAt === null ? null : k.revokedAt.toISOString(),
          };
          io.stdout.write(`${JSON.stringify(line)}\n`);
        }
        return 0;
      }
      case "revoke": {
        const revoked = await revokeApiKey(db, parsed.id, now());
        if (revoked === null) {
          io.stderr.write(`smsc-hub keys: no key with id "${parsed.id}" (see \`keys list\`)\n`);
          return 1;
        }
        const { key, alreadyRevoked } = revoked;
        io.stderr.write(
          alreadyRevoked
            ? `${key.id} ("${key.name}") was already revoked at ${key.revokedAt?.toISOString()}\n`
            : `revoked ${key.id} ("${key.name}"); running servers stop accepting it within ${API_KEY_CACHE_TTL_MS / 1000} s\n`,
        );
        return 0;
      }
    }
  }, io.openDb);
}
