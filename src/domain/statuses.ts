// SMSC message status codes (`status`), with their meaning, finality and delivery class.
// Source: protocol reference section 5. The order of current statuses is design.md's rule.

export type StatusClass = "pending" | "delivered" | "expired" | "failed" | "not_found";

export const STATUSES = {
  "-3": { name: "not_found", meaning: "Message not found", final: true, engagement: false, class: "not_found" },
  "-2": { name: "stopped", meaning: "Stopped before reaching the operator", final: false, engagement: false, class: "pending" },
  "-1": { name: "waiting", meaning: "Waiting to be sent", final: false, engagement: false, class: "pending" },
  "0": { name: "sent", meaning: "Passed to the operator", final: false, engagement: false, class: "pending" },
  "1": { name: "delivered", meaning: "Delivered (for HLR: the HLR answered, read err)", final: true, engagement: false, class: "delivered" },
  "2": { name: "read", meaning: "Read by the subscriber", final: true, engagement: true, class: "delivered" },
  "3": { name: "expired", meaning: "Expired undelivered", final: true, engagement: false, class: "expired" },
  "4": { name: "clicked", meaning: "Delivered, and the link was clicked", final: true, engagement: true, class: "delivered" },
  "20": { name: "undeliverable", meaning: "Cannot be delivered", final: true, engagement: false, class: "failed" },
  "22": { name: "wrong_number", meaning: "Wrong number format", final: true, engagement: false, class: "failed" },
  "23": { name: "prohibited", meaning: "Prohibited by limits or filters", final: true, engagement: false, class: "failed" },
  "24": { name: "no_funds", meaning: "Insufficient funds", final: true, engagement: false, class: "failed" },
  "25": { name: "unavailable", meaning: "Unavailable number", final: true, engagement: false, class: "failed" },
} as const satisfies Record<string, { name: string; meaning: string; final: boolean; engagement: boolean; class: StatusClass }>;

/** Final statuses: -3, 1, 2, 3, 4, 20-25 (design.md). */
export function isFinalStatus(status: number): boolean {
  return status === -3 || (status >= 1 && status <= 4) || (status >= 20 && status <= 25);
}

/** Engagement statuses (read, clicked): 2 and 4. */
export function isEngagementStatus(status: number): boolean {
  return status === 2 || status === 4;
}

export function statusClass(status: number): StatusClass {
  const known = (STATUSES as Record<string, { class: StatusClass }>)[String(status)];
  if (known) return known.class;
  return isFinalStatus(status) ? "failed" : "pending";
}

export function statusMeaning(status: number): string | null {
  return (STATUSES as Record<string, { meaning: string }>)[String(status)]?.meaning ?? null;
}

export type StatusPoint = { status: number; at: Date };

/**
 * Compares two status events under the key (final?, engagement?, event time, status code), left to right.
 * A message's current status is the greatest of its events, whatever order they arrived in.
 */
export function compareStatusPoints(a: StatusPoint, b: StatusPoint): number {
  const key = (p: StatusPoint) => [isFinalStatus(p.status) ? 1 : 0, isEngagementStatus(p.status) ? 1 : 0, p.at.getTime(), p.status];
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) {
    const d = (ka[i] as number) - (kb[i] as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * A status event's place in that order, with its err as the last tie-break, as text that sorts the same way: what a
 * message keeps beside a fact (cost, parts, sender) to know which update it came from. Keys start with "0" or "1".
 */
export function statusPointKey(p: StatusPoint & { err: number }): string {
  const ms = BigInt(p.at.getTime()) + 8_640_000_000_000_000n; // Dates span ±8.64e15 ms: never negative; exact (not a double)
  return (
    (isFinalStatus(p.status) ? "1" : "0") +
    (isEngagementStatus(p.status) ? "1" : "0") +
    String(ms).padStart(17, "0") +
    String(p.status + 32768).padStart(5, "0") + // statuses are smallints
    String(p.err + 2147483648).padStart(10, "0") // errs are ints
  );
}

/** The greater of two status points (the current status after seeing both). */
export function laterStatus<T extends StatusPoint>(a: T | null, b: T): T {
  return a === null || compareStatusPoints(b, a) > 0 ? b : a;
}
