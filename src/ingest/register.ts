// Message registrations (POST /v1/messages): a CRM says what it sent through SMSC. Each registration joins the
// message's callbacks (same account + SMSC id + phone) and moves the message between statistics cells, in one
// transaction, locking rows in the same order as the callback writer (messages, then delivery_rollups).
import { applyRegistration, type Registration } from "../domain/message-state.js";
import { isRetryableTxError, type Database } from "../db/client.js";
import { lockMessages, messageKeyString as keyOf, type MessageKey } from "../db/queries/messages.js";
import { findNumberOperators } from "../db/queries/numbers.js";
import { applyMessageChanges, type MessageChange } from "./message-changes.js";

export type MessageRegistration = MessageKey & Registration;

/** Stores the registrations; the same message registered twice takes the later registration. */
export async function registerMessages(db: Database, registrations: readonly MessageRegistration[], now: Date): Promise<void> {
  if (registrations.length === 0) return;
  const byKey = new Map<string, MessageRegistration>();
  for (const r of registrations) byKey.set(keyOf(r), r);
  for (let attempt = 0; ; attempt++) {
    try {
      await db.transaction(async (tx) => {
        const locked = await lockMessages(tx, [...byKey.values()], now);
        const fresh = locked.filter((m) => m.state.firstStatusAt === null && !m.state.registered);
        const operators = await findNumberOperators(tx, fresh.map((m) => m.phone));
        const changes: MessageChange[] = [];
        for (const m of locked) {
          const r = byKey.get(keyOf(m));
          if (!r) continue;
          const isFresh = m.state.firstStatusAt === null && !m.state.registered;
          const state = applyRegistration(m.state, r, isFresh ? (operators.get(m.phone) ?? null) : null);
          changes.push({ id: m.id, account: m.account, before: m.state, state });
        }
        await applyMessageChanges(tx, changes, now);
      });
      return;
    } catch (err) {
      if (isRetryableTxError(err) && attempt < 3) continue;
      throw err;
    }
  }
}
