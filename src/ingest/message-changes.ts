// Writes changed message states and moves the messages between statistics cells: the one step the callback
// writer and registrations share, so a message's row and its rollup cell never disagree.
import { placedAt, type MessageState } from "../domain/message-state.js";
import { rollupDeltas } from "../domain/rollup.js";
import type { Sql } from "../db/client.js";
import { updateMessages } from "../db/queries/messages.js";
import { applyRollupDeltas } from "../db/queries/rollups.js";

export type MessageChange = { id: number; account: string; before: MessageState; state: MessageState };

/** `rollups: false` leaves statistics unmaintained: only for measuring what their upkeep costs (ROLLUP_MAINTENANCE). */
export type DeriveOptions = { rollups?: boolean };

export async function applyMessageChanges(tx: Sql, changes: readonly MessageChange[], now: Date, options: DeriveOptions = {}): Promise<void> {
  // Both sent at once (pipelined), messages first: the fixed table order.
  await Promise.all([
    updateMessages(tx, changes, now),
    options.rollups === false
      ? undefined
      : applyRollupDeltas(
          tx,
          // A message that could not be placed in time yet (no status, not registered) counted nowhere before.
          rollupDeltas(changes.map((c) => ({ account: c.account, before: placedAt(c.before) === null ? null : c.before, after: c.state }))),
        ),
  ]);
}
