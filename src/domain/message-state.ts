// A message's state after status updates and registrations, and what changed for the number's counters.
// The current status is the greatest status event under design.md's ordering rule, so the result does not
// depend on the order the updates arrive in.
import type { StatusUpdate } from "./callback.js";
import { TYPE_HLR, TYPE_PING } from "./message-types.js";
import { deliveryClass } from "./delivery-class.js";
import { compareStatusPoints, isFinalStatus, statusClass, statusPointKey } from "./statuses.js";

export type MessageState = {
  type: number | null;
  status: number | null;
  err: number | null;
  final: boolean;
  statusAt: Date | null;
  cost: string | null;
  parts: number | null;
  sender: string | null;
  /**
   * Where cost, parts and sender came from: the statusPointKey of the update that carried them, or REGISTERED_POINT.
   * Null with a value: stored before these were kept (withFactPoints gives it one).
   */
  costFrom: string | null;
  partsFrom: string | null;
  senderFrom: string | null;
  campaign: string | null;
  /** The message's own operator, from its callbacks (mccmnc, HLR fields): the greatest update that names one. */
  mcc: string | null;
  mnc: string | null;
  /** The statusPointKey of the update mcc/mnc came from (null with a value: stored before it was kept). */
  mccFrom: string | null;
  firstStatusAt: Date | null;
  lastStatusAt: Date | null;
  deliveredAt: Date | null;
  registered: boolean;
  sentAt: Date | null;
  validUntil: Date | null;
  menuId: string | null;
  countryIso: string | null;
  /** The operator statistics place the message on (its own, else the number's HLR when first seen). */
  operatorMcc: string | null;
  operatorMnc: string | null;
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
  costFrom: null,
  partsFrom: null,
  senderFrom: null,
  campaign: null,
  mcc: null,
  mnc: null,
  mccFrom: null,
  firstStatusAt: null,
  lastStatusAt: null,
  deliveredAt: null,
  registered: false,
  sentAt: null,
  validUntil: null,
  menuId: null,
  countryIso: null,
  operatorMcc: null,
  operatorMnc: null,
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

/** Where statistics place the message in time: the registered send time, else its earliest status time. */
export function placedAt(s: MessageState): Date | null {
  return s.registered && s.sentAt !== null ? s.sentAt : s.firstStatusAt;
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

/**
 * The operator statistics place the message on: its own operator as soon as a callback names it; until then the
 * fallback (the number's HLR operator when the message was first seen), which then stays.
 */
function placeOperator(s: MessageState, fallback: { mcc: string | null; mnc: string | null } | null): MessageState {
  if (s.mcc !== null) return s.operatorMcc === s.mcc && s.operatorMnc === s.mnc ? s : { ...s, operatorMcc: s.mcc, operatorMnc: s.mnc };
  if (s.operatorMcc !== null) return s;
  if (fallback && fallback.mcc !== null) return { ...s, operatorMcc: fallback.mcc, operatorMnc: fallback.mnc };
  return s;
}

/** The point of a registration's parts and sender: above every status point, so they win over callbacks. */
export const REGISTERED_POINT = "~";
/** Below every status point: any update that carries the fact replaces the value. */
const LOWEST_POINT = "";

/** What a message's callbacks say of it besides its status; mcc stands for the operator (mcc with its mnc). */
type Fact = "cost" | "parts" | "sender" | "mcc";

/**
 * A fact (cost, parts, sender, the operator) takes the value of the update with the greatest status point that carries
 * one (a registration's above all; at an equal point the greater value), so the result does not depend on arrival
 * order or batching, like the status itself.
 */
function takeFact<F extends Exclude<Fact, "mcc">>(s: MessageState, fact: F, value: MessageState[F], point: string): MessageState {
  if (value === null) return s;
  return wins(s[`${fact}From`], point, () => isGreaterFact(fact, value, s[fact])) ? { ...s, [fact]: value, [`${fact}From`]: point } : s;
}

/** The operator is one fact: mcc and mnc come from the same update (one that names an mcc). */
function takeOperator(s: MessageState, mcc: string | null, mnc: string | null, point: string): MessageState {
  if (mcc === null) return s;
  const greater = () => s.mcc === null || mcc > s.mcc || (mcc === s.mcc && (mnc ?? "") > (s.mnc ?? ""));
  return wins(s.mccFrom, point, greater) ? { ...s, mcc, mnc, mccFrom: point } : s;
}

/** A value from `point` replaces the one held from `held`: a greater point, or the same point and a greater value. */
function wins(held: string | null, point: string, isGreater: () => boolean): boolean {
  return held === null || point > held || (point === held && isGreater());
}

function isGreaterFact<F extends Fact>(fact: F, value: NonNullable<MessageState[F]>, held: MessageState[F]): boolean {
  if (held === null) return true;
  return fact === "cost" ? Number(value) > Number(held) : value > held; // cost: "3.45" and the stored "3.4500" are equal
}

/**
 * The state with a point for every fact that has a value. A message stored before the points were kept (migration
 * 0005) gets, once, the point its cost, parts and sender would then have had: its current status's, or the
 * registration's for parts and sender of a registered message (a value with neither counts as the lowest); its
 * operator (0006) the lowest. Fixed when first read and stored with the next write, so later updates meet the same
 * point whatever their order.
 */
export function withFactPoints(s: MessageState): MessageState {
  const missing = (fact: Fact) => s[fact] !== null && s[`${fact}From`] === null;
  if (!missing("cost") && !missing("parts") && !missing("sender") && !missing("mcc") && !(s.mcc === null && s.mnc !== null)) return s;
  const statusPoint = s.status !== null && s.statusAt !== null ? statusPointKey({ status: s.status, at: s.statusAt, err: s.err ?? 0 }) : LOWEST_POINT;
  const legacy = (fact: Fact) => (fact !== "cost" && s.registered ? REGISTERED_POINT : statusPoint);
  return {
    ...s,
    costFrom: missing("cost") ? legacy("cost") : s.costFrom,
    partsFrom: missing("parts") ? legacy("parts") : s.partsFrom,
    senderFrom: missing("sender") ? legacy("sender") : s.senderFrom,
    // The operator stored before 0006 was the first callback's to name one: it counts as the lowest, so the next
    // callback that names one (or `replay`) decides it by the rule.
    mccFrom: missing("mcc") ? LOWEST_POINT : s.mccFrom,
    // The old rule could leave an mnc without its mcc: it belongs to no operator.
    mnc: s.mcc === null ? null : s.mnc,
  };
}

/**
 * Applies status updates. `numberOperator` is the number's latest HLR operator, used to place a message that does
 * not name its own operator.
 */
export function applyStatusUpdates(
  current: MessageState,
  updates: readonly StatusUpdate[],
  extra: { countryIso?: string | null; numberOperator?: { mcc: string | null; mnc: string | null } | null } = {},
): MessageState {
  let next = withFactPoints({ ...current, countryIso: current.countryIso ?? extra.countryIso ?? null });
  for (const u of updates) {
    // What SMSC says of the message itself: from the greatest update that says it (a late older callback, an SMSC
    // retry, cannot undo it, and fills a gap only until a greater update that has the value arrives).
    const point = statusPointKey({ status: u.status, at: u.eventAt, err: u.err });
    next = takeFact(takeFact(takeFact(next, "cost", u.cost, point), "parts", u.parts, point), "sender", u.sender, point);
    next = takeOperator(next, u.mcc, u.mnc, point);
    // Equal under the ordering key (same status at the same time): the greater err decides, so that the result
    // never depends on arrival order.
    const order =
      next.status === null || next.statusAt === null
        ? 1
        : compareStatusPoints({ status: u.status, at: u.eventAt }, { status: next.status, at: next.statusAt });
    const isNewer = order > 0 || (order === 0 && u.err > (next.err ?? Number.NEGATIVE_INFINITY));
    const type = next.type ?? u.type;
    // Delivered as statistics count it (an HLR or ping answer: status 1 with err 0), for the latency.
    const deliveredNow = deliveryClass(u.status, u.err, type) === "delivered";
    next = {
      ...next,
      type,
      status: isNewer ? u.status : next.status,
      err: isNewer ? u.err : next.err,
      final: isNewer ? isFinalStatus(u.status) : next.final,
      statusAt: isNewer ? u.eventAt : next.statusAt,
      firstStatusAt: minDate(next.firstStatusAt, u.eventAt),
      lastStatusAt: maxDate(next.lastStatusAt, u.eventAt),
      deliveredAt: deliveredNow ? minDate(next.deliveredAt, u.eventAt) : next.deliveredAt,
    };
  }
  return placeOperator(next, extra.numberOperator ?? null);
}

export type Registration = {
  sentAt: Date;
  sender: string | null;
  campaign: string | null;
  parts: number | null;
  validUntil: Date | null;
  menuId: string | null;
  countryIso: string | null;
};

/** A CRM's registration: its send time, sender, campaign and validity window win over what callbacks said. */
export function applyRegistration(
  current: MessageState,
  r: Registration,
  numberOperator: { mcc: string | null; mnc: string | null } | null = null,
): MessageState {
  current = withFactPoints(current);
  return placeOperator(
    {
      ...current,
      registered: true,
      sentAt: r.sentAt,
      sender: r.sender ?? current.sender,
      senderFrom: r.sender !== null ? REGISTERED_POINT : current.senderFrom,
      campaign: r.campaign ?? current.campaign,
      parts: r.parts ?? current.parts,
      partsFrom: r.parts !== null ? REGISTERED_POINT : current.partsFrom,
      validUntil: r.validUntil,
      menuId: r.menuId ?? current.menuId,
      countryIso: current.countryIso ?? r.countryIso,
    },
    numberOperator,
  );
}
