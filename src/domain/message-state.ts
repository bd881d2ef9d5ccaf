// A message's state after a set of status updates, and what changed for the number's counters.
// The current status is the greatest status event under design.md's ordering rule, so the result does not
// depend on the order the updates arrive in.
import type { StatusUpdate } from "./callback.js";
import { TYPE_HLR, TYPE_PING } from "./message-types.js";
import { compareStatusPoints, isFinalStatus, statusClass } from "./statuses.js";

export type MessageState = {
  type: number | null;
  status: number | null;
  err: number | null;
  final: boolean;
  statusAt: Date | null;
  cost: string | null;
  parts: number | null;
  sender: string | null;
  mcc: string | null;
  mnc: string | null;
  firstStatusAt: Date | null;
  lastStatusAt: Date | null;
  deliveredAt: Date | null;
};

export const EMPTY_MESSAGE_STATE: MessageState = {
  type: null,
  status: null,
  err: null,
  final: false,
  statusAt: null,
  cost: null,
  parts: null,
  sender: null,
  mcc: null,
  mnc: null,
  firstStatusAt: null,
  lastStatusAt: null,
  deliveredAt: null,
};

/** What a number's delivered/failed counters count: an outcome of a message that is not an HLR or ping. */
export type Outcome = "delivered" | "failed" | null;

export function messageOutcome(status: number | null, type: number | null): Outcome {
  if (status === null || type === TYPE_HLR || type === TYPE_PING) return null;
  const cls = statusClass(status);
  if (cls === "delivered") return "delivered";
  if (cls === "failed" || cls === "expired") return "failed";
  return null;
}

function minDate(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.getTime() <= b.getTime() ? a : b;
}

function maxDate(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.getTime() >= b.getTime() ? a : b;
}

export function applyStatusUpdates(current: MessageState, updates: readonly StatusUpdate[]): MessageState {
  let next = { ...current };
  for (const u of updates) {
    // Equal under the ordering key (same status at the same time): the greater err decides, so that the result
    // never depends on arrival order.
    const order =
      next.status === null || next.statusAt === null
        ? 1
        : compareStatusPoints({ status: u.status, at: u.eventAt }, { status: next.status, at: next.statusAt });
    const isNewer = order > 0 || (order === 0 && u.err > (next.err ?? Number.NEGATIVE_INFINITY));
    const type = next.type ?? u.type;
    const deliveredNow = type !== TYPE_HLR && type !== TYPE_PING && statusClass(u.status) === "delivered";
    next = {
      type,
      status: isNewer ? u.status : next.status,
      err: isNewer ? u.err : next.err,
      final: isNewer ? isFinalStatus(u.status) : next.final,
      statusAt: isNewer ? u.eventAt : next.statusAt,
      cost: u.cost ?? next.cost,
      parts: u.parts ?? next.parts,
      sender: u.sender ?? next.sender,
      mcc: next.mcc ?? u.mcc,
      mnc: next.mnc ?? u.mnc,
      firstStatusAt: minDate(next.firstStatusAt, u.eventAt),
      lastStatusAt: maxDate(next.lastStatusAt, u.eventAt),
      deliveredAt: deliveredNow ? minDate(next.deliveredAt, u.eventAt) : next.deliveredAt,
    };
  }
  return next;
}
