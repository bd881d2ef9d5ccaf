// Delivery statistics from rollup cells: the disjoint classes a (status, err) falls in, and percentiles read from
// the fixed-bucket latency histogram (a percentile is the upper edge of its bucket).
import { deliveryClass, type DeliveryClass } from "./delivery-class.js";
import { LATENCY_BUCKETS, LATENCY_EDGES } from "./rollup.js";


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
  /** The message type; a message whose callbacks named none is an SMS (0). */
  type: number | null;
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
    counts[deliveryClass(c.status, c.err, c.type)] += c.messages;
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

export type GroupKey = Record<string, string | number | null>;

/** Compares group keys dimension by dimension: numbers as numbers, text as text, nulls last. */
function compareKeys(dims: readonly string[], a: GroupKey, b: GroupKey): number {
  for (const d of dims) {
    const x = a[d] ?? null;
    const y = b[d] ?? null;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    if (typeof x === "number" && typeof y === "number") return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/** Folds cells and missing-receipt counts into one entry per group, in group order; empty groups are left out. */
export function mergeGroups(
  dims: readonly string[],
  cells: readonly { key: GroupKey; cell: CellRow }[],
  missing: readonly { key: GroupKey; count: number }[],
  addCost: (a: string, b: string) => string,
): { key: GroupKey; figures: GroupFigures }[] {
  const groups = new Map<string, { key: GroupKey; cells: CellRow[]; missing: number }>();
  const entry = (key: GroupKey) => {
    const k = JSON.stringify(dims.map((d) => key[d] ?? null));
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { key, cells: [], missing: 0 }));
    return g;
  };
  for (const row of cells) entry(row.key).cells.push(row.cell);
  for (const row of missing) entry(row.key).missing += row.count;
  return [...groups.values()]
    .sort((a, b) => compareKeys(dims, a.key, b.key))
    .map((g) => ({ key: g.key, figures: groupFigures(g.cells, g.missing, addCost) }))
    .filter((g) => g.figures.messages > 0 || g.figures.missing_receipts > 0);
}
