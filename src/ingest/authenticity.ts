// Who sent a callback: the account its token picks, and whether SMSC's signature holds.
// Tokens and signatures are compared in constant time; neither is ever logged.
import { createHash, timingSafeEqual } from "node:crypto";
import type { CallbackAccount, Config } from "../config.js";
import type { Fields } from "../domain/callback.js";

export const DEFAULT_ACCOUNT = "default";

function sha256(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Constant-time string equality (hashing first makes the lengths equal). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

export type AccountResolver = (token: string | undefined) => CallbackAccount | null;

/**
 * With no tokens configured, everything belongs to `default` (with SMSC_SECRET as its secret). Otherwise the token
 * picks the account; a wrong or missing token picks none (401).
 */
export function createAccountResolver(config: Pick<Config, "accounts" | "defaultSecret">): AccountResolver {
  if (config.accounts.length === 0) {
    const open: CallbackAccount = { name: DEFAULT_ACCOUNT, token: "", secret: config.defaultSecret };
    return () => open;
  }
  const accounts = config.accounts;
  return (token) => {
    if (token === undefined || token === "") return null;
    let found: CallbackAccount | null = null;
    for (const account of accounts) if (safeEqual(account.token, token) && found === null) found = account; // no early exit
    return found;
  };
}

export type SignatureCheck = "ok" | "bad" | "missing";

/**
 * SMSC's signature: md5 or sha1 (hex) of `<base>:<secret>`, where base is `id:phone:status` for status-family
 * events and `phone:ts` for wait-call. Any signature present must match. Case-insensitive hex.
 */
export function checkSignature(fields: Fields, base: string, secret: string): SignatureCheck {
  const given = [
    ["md5", fields.md5],
    ["sha1", fields.sha1],
  ].filter((g): g is [string, string] => typeof g[1] === "string" && g[1].trim() !== "");
  if (given.length === 0) return "missing";
  for (const [algorithm, value] of given) {
    const expected = createHash(algorithm).update(`${base}:${secret}`).digest("hex");
    if (!safeEqual(expected, value.trim().toLowerCase())) return "bad";
  }
  return "ok";
}
