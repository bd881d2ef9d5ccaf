// Delivery statistics from rollup cells: the disjoint classes a (status, err) falls in, and percentiles read from
// the fixed-bucket latency histogram (a percentile is the upper edge of its bucket).
import { failurePermanence } from "./errors.js";
import { LATENCY_BUCKETS, LATENCY_EDGES } from "./rollup.js";
import { statusClass } from "./statuses.js";

export type DeliveryClass = "delivered" | "expired" | "failed_permanent" | "failed_temporary" | "failed_other" | "pending";
export const DELIVERY_CLASSES: readonly DeliveryClass[] = ["delivered", "expired", "failed_permanent", "failed_temporary", "failed_other", "pending"];

/** The class a message's current (status, err) falls in; a registered message with no status yet is pending. */
export function deliveryClass(status: number | null, err: number | null): DeliveryClass {
  if (status === null) return "pending";
  switch (statusClass(status)) {
    case "delivered":
      return "delivered";
    case "expired":
      return "expired";
    case "pending":
      return "pending";
    default:
      return `failed_${failurePermanence(status, err)}` as DeliveryClass;
  }
}

/** The upper edge (seconds) of the bucket holding the p-th percentile; null with no latencies or past the last edge. */
export function histogramPercentile(histogram: readonly number[], p: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (let i = 0; i < LATENCY_BUCKETS; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= rank) return LATENCY_EDGES[i] ?? null;
  }
  return null;
}

export type CellRow = {
  status: number | null;
  err: number | null;
  messages: number;
  cost: string;
  latency: number[];
  latencyFromRegistered: number;
};

export type GroupFigures = {
  messages: number;
  delivered: number;
  expired: number;
  failed_permanent: number;
  failed_temporary: number;
  failed_other: number;
  pending: number;
  missing_receipts: number;
  delivery_rate: number | null;
  latency_s: { p50: number | null; p90: number | null; p99: number | null; from_registered: number };
  cost: string;
};

/** Folds the cells of one group into its figures. `addCost` adds decimal strings exactly. */
export function groupFigures(cells: readonly CellRow[], missingReceipts: number, addCost: (a: string, b: string) => string): GroupFigures {
  const counts: Record<DeliveryClass, number> = { delivered: 0, expired: 0, failed_permanent: 0, failed_temporary: 0, failed_other: 0, pending: 0 };
  const histogram = new Array<number>(LATENCY_BUCKETS).fill(0);
  let messages = 0;
  let cost = "0";
  let fromRegistered = 0;
  for (const c of cells) {
    messages += c.messages;
    counts[deliveryClass(c.status, c.err)] += c.messages;
    cost = addCost(cost, c.cost);
    c.latency.forEach((v, i) => (histogram[i] = (histogram[i] ?? 0) + v));
    fromRegistered += c.latencyFromRegistered;
  }
  const settled = messages - counts.pending;
  return {
    messages,
    ...counts,
    missing_receipts: missingReceipts,
    delivery_rate: settled > 0 ? counts.delivered / settled : null,
    latency_s: {
      p50: histogramPercentile(histogram, 50),
      p90: histogramPercentile(histogram, 90),
      p99: histogramPercentile(histogram, 99),
      from_registered: fromRegistered,
    },
    cost,
  };
}
