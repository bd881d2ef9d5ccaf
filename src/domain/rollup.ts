// Delivery statistics cells. Each message counts in exactly one cell, the one its current state places it in;
// when the state changes, the message leaves its old cell and joins the new one (a delta of -1 and +1).
import { placedAt, type MessageState } from "./message-state.js";
import { deliveryClass } from "./delivery-class.js";

/** Latency histogram edges in seconds; the last bucket is +inf. A percentile reports its bucket's upper edge. */
export const LATENCY_EDGES = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400] as const;
export const LATENCY_BUCKETS = LATENCY_EDGES.length + 1;

export type CellKey = {
  hour: Date;
  account: string;
  mcc: string | null;
  mnc: string | null;
  country: string | null;
  type: number | null;
  sender: string | null;
  campaign: string | null;
  status: number | null;
  err: number | null;
};

export type CellDelta = CellKey & {
  messages: number;
  /** Decimal string with at most 4 decimals. */
  cost: string;
  latency: number[];
  latencyFromRegistered: number;
};

export function latencyBucket(seconds: number): number {
  for (let i = 0; i < LATENCY_EDGES.length; i++) if (seconds <= LATENCY_EDGES[i]!) return i;
  return LATENCY_EDGES.length;
}

function hourOf(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 3_600_000) * 3_600_000);
}

/** The latency a delivered message contributes: delivered time minus send time, in seconds (never negative). */
export function messageLatency(s: MessageState): { seconds: number; fromRegistered: boolean } | null {
  if (deliveryClass(s.status, s.err, s.type) !== "delivered" || s.deliveredAt === null) return null;
  const sent = s.registered && s.sentAt !== null ? s.sentAt : s.firstStatusAt;
  if (sent === null) return null;
  return {
    seconds: Math.max(0, (s.deliveredAt.getTime() - sent.getTime()) / 1000),
    fromRegistered: s.registered && s.sentAt !== null,
  };
}

/** The cell a message counts in, with its contribution; null when it cannot be placed in time yet. */
export function messageContribution(account: string, s: MessageState, sign: 1 | -1): CellDelta | null {
  const at = placedAt(s);
  if (at === null) return null;
  const latency = new Array<number>(LATENCY_BUCKETS).fill(0);
  const lat = messageLatency(s);
  if (lat) latency[latencyBucket(lat.seconds)] = sign;
  return {
    hour: hourOf(at),
    account,
    mcc: s.operatorMcc,
    mnc: s.operatorMcc === null ? null : s.operatorMnc,
    country: s.countryIso,
    type: s.type,
    sender: s.sender,
    campaign: s.campaign,
    status: s.status,
    err: s.status === null ? null : s.err,
    messages: sign,
    cost: s.cost === null ? "0" : sign === 1 ? s.cost : negate(s.cost),
    latency,
    latencyFromRegistered: lat?.fromRegistered ? sign : 0,
  };
}

function negate(decimal: string): string {
  return decimal.startsWith("-") ? decimal.slice(1) : `-${decimal}`;
}

export function cellKeyString(c: CellKey): string {
  return JSON.stringify([c.hour.toISOString(), c.account, c.mcc, c.mnc, c.country, c.type, c.sender, c.campaign, c.status, c.err]);
}

/** Adds decimal strings exactly (4 decimals), without floating point. */
export function addDecimals(a: string, b: string): string {
  const scaled = (x: string) => {
    const neg = x.startsWith("-");
    const [int, frac = ""] = (neg ? x.slice(1) : x).split(".");
    const v = BigInt(int || "0") * 10000n + BigInt((frac + "0000").slice(0, 4));
    return neg ? -v : v;
  };
  const sum = scaled(a) + scaled(b);
  const neg = sum < 0n;
  const abs = neg ? -sum : sum;
  return `${neg ? "-" : ""}${abs / 10000n}.${(abs % 10000n).toString().padStart(4, "0")}`;
}

/** Folds message changes into per-cell deltas; cells whose delta is zero are dropped. */
export function rollupDeltas(changes: readonly { account: string; before: MessageState | null; after: MessageState }[]): CellDelta[] {
  const cells = new Map<string, CellDelta>();
  const add = (d: CellDelta | null) => {
    if (!d) return;
    const k = cellKeyString(d);
    const cur = cells.get(k);
    if (!cur) {
      cells.set(k, d);
      return;
    }
    cur.messages += d.messages;
    cur.cost = addDecimals(cur.cost, d.cost);
    cur.latency = cur.latency.map((v, i) => v + (d.latency[i] ?? 0));
    cur.latencyFromRegistered += d.latencyFromRegistered;
  };
  for (const c of changes) {
    if (c.before) add(messageContribution(c.account, c.before, -1));
    add(messageContribution(c.account, c.after, 1));
  }
  return [...cells.values()].filter(
    (d) => d.messages !== 0 || !/^-?0\.0000$/.test(addDecimals(d.cost, "0")) || d.latency.some((v) => v !== 0) || d.latencyFromRegistered !== 0,
  );
}
