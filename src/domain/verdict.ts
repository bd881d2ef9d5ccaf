// Number verdicts: what the evidence we hold says about a phone number, and which rule decided.
//
// Evidence is every HLR answer, every ping result and every message outcome (a message's current final status) for
// the number. Each piece is read through the code tables, kept as data: `ERROR_CODES` and `STATUS_RULES` in
// errors.ts (one row per code: meaning, verdict class, permanence) and `REACHABLE_RULES` below. A piece either
// decides (it points to a verdict class) or is neutral (ignored). The NEWEST deciding piece wins: a delivery after
// an "absent" HLR makes the number reachable again, and "unknown subscriber" stands until a later delivery succeeds.
// For HLR and ping answers (types 4 and 5), status 1 means "the HLR answered": their `err` is read, never
// "delivered".
//
// Pure: the current time comes in as an argument.
import { ERROR_CODES, errorRow, STATUS_RULES, type Permanence, type VerdictClass } from "./errors.js";
import { TYPE_HLR, TYPE_PING } from "./message-types.js";
import { countryName, lookupOperator, operatorId } from "./operators.js";
import type { NormalizedPhone } from "./phone.js";
import { isFinalStatus, statusMeaning } from "./statuses.js";

export const VERDICTS = ["valid_reachable", "valid_absent", "invalid", "barred_or_no_sms", "unknown"] as const;
export type Verdict = (typeof VERDICTS)[number];
/** The verdicts one piece of evidence can point to. */
export type EvidenceVerdict = Exclude<Verdict, "unknown">;

/** Where a piece of evidence comes from: an HLR answer, a ping (type 5), or a message's outcome (other types). */
export const EVIDENCE_KINDS = ["hlr", "ping", "delivery"] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** The evidence kind of a message of this type. */
export function evidenceKindOfType(type: number | null): EvidenceKind {
  if (type === TYPE_HLR) return "hlr";
  if (type === TYPE_PING) return "ping";
  return "delivery";
}

/**
 * What says "reachable", per evidence kind. An HLR or ping answer must be status 1 with err 0 (status 1 only means
 * the HLR answered); a message of any other type is reachable when it was delivered, read or clicked (1, 2, 4).
 */
export const REACHABLE_RULES = {
  hlr: { statuses: [1], err: 0, rule: "hlr_ok", meaning: "The HLR answered: the subscriber is available" },
  ping: { statuses: [1], err: 0, rule: "ping_ok", meaning: "The ping reached the handset" },
  delivery: { statuses: [1, 2, 4], err: null, rule: "delivered", meaning: "Delivered to the subscriber" },
} as const satisfies Record<EvidenceKind, { statuses: readonly number[]; err: number | null; rule: string; meaning: string }>;

/** Why the verdict is what it is when no single piece of evidence decided it. */
export const VERDICT_REASONS = {
  no_evidence: "We hold no HLR answer and no message outcome for this number",
  only_neutral_evidence: "Everything we hold about the number is neutral (limits, funds, test mode, unknown codes)",
  evidence_too_old: "Every deciding answer is older than max_age",
  not_in_numbering_plan: "The numbering plan has no such number, and no fresh answer says otherwise",
} as const;

/** One HLR answer or one message outcome, as stored. */
export type EvidenceInput = {
  kind: EvidenceKind;
  at: Date;
  status: number;
  err: number | null;
};

/** What one piece of evidence says. `verdict` null: neutral (ignored by verdicts). */
export type EvidenceReading = {
  verdict: EvidenceVerdict | null;
  /** The rule that read it: `hlr_ok`, `delivered`, `<kind>_err_<n>`, `<kind>_status_<n>`. */
  rule: string;
  meaning: string;
  permanence: Permanence | null;
};

/**
 * Reads one piece of evidence. Null when it is no outcome at all: a pending status (the message or HLR request has
 * not finished) or -3 (a status lookup found no message).
 */
export function readEvidence(e: Pick<EvidenceInput, "kind" | "status" | "err">): EvidenceReading | null {
  if (!isFinalStatus(e.status) || e.status === -3) return null;
  const err = e.err ?? 0;
  // A status rule decides on its own, whatever the err: 22 is invalid, 23 and 24 are neutral.
  const byStatus = (STATUS_RULES as Record<number, { meaning: string; verdict: VerdictClass | null; permanence: Permanence }>)[e.status];
  if (byStatus) {
    return { verdict: byStatus.verdict, rule: `${e.kind}_status_${e.status}`, meaning: byStatus.meaning, permanence: byStatus.permanence };
  }
  const reach = REACHABLE_RULES[e.kind];
  if ((reach.statuses as readonly number[]).includes(e.status) && (reach.err === null || err === reach.err)) {
    return { verdict: "valid_reachable", rule: reach.rule, meaning: reach.meaning, permanence: null };
  }
  if (err !== 0) {
    const row = errorRow(err);
    return row
      ? { verdict: row.verdict, rule: `${e.kind}_err_${err}`, meaning: row.meaning, permanence: row.permanence }
      : { verdict: null, rule: `${e.kind}_err_${err}`, meaning: `Error code ${err} (not in the code table)`, permanence: "other" };
  }
  // A failure with no error code (for example status 20 or 3 with err 0) says nothing about the number.
  return { verdict: null, rule: `${e.kind}_status_${e.status}`, meaning: statusMeaning(e.status) ?? `Status ${e.status}`, permanence: "other" };
}

/**
 * What the database may leave out when it reads evidence: the (status, err) pairs that can never decide a verdict.
 * A row is kept when its status decides on its own, or when its status is not neutral and it is either a success
 * status or carries an err code that decides. A superset of what `readEvidence` finds deciding, so that a flood of
 * neutral outcomes cannot push an older deciding one out of the rows read.
 */
export const EVIDENCE_FILTER = (() => {
  const rules = Object.entries(STATUS_RULES as Record<string, { verdict: VerdictClass | null }>);
  const codes = Object.entries(ERROR_CODES as Record<string, { verdict: VerdictClass | null }>);
  return {
    decidingStatuses: rules.filter(([, r]) => r.verdict !== null).map(([k]) => Number(k)),
    neutralStatuses: rules.filter(([, r]) => r.verdict === null).map(([k]) => Number(k)),
    successStatuses: [...new Set(Object.values(REACHABLE_RULES).flatMap((r) => [...r.statuses]))],
    decidingErrs: codes.filter(([, r]) => r.verdict !== null).map(([k]) => Number(k)),
  };
})();

/** The verdict class an `err` code points to on its own (statistics): null for neutral and unknown codes. */
export function errVerdictClass(err: number): VerdictClass | null {
  return errorRow(err)?.verdict ?? null;
}

export type ReadEvidence = EvidenceInput & { reading: EvidenceReading };

// Order at the same instant, so the answer never depends on the order rows arrive in: a message outcome before an
// HLR answer (a delivery is the stronger evidence), and a success before a failure.
const KIND_RANK: Record<EvidenceKind, number> = { delivery: 0, ping: 1, hlr: 2 };
const VERDICT_RANK: Record<EvidenceVerdict | "neutral", number> = {
  valid_reachable: 0,
  valid_absent: 1,
  barred_or_no_sms: 2,
  invalid: 3,
  neutral: 4,
};

/** Newest first; ties broken by kind, then verdict, then status and err. */
export function compareEvidence(a: ReadEvidence, b: ReadEvidence): number {
  return (
    b.at.getTime() - a.at.getTime() ||
    KIND_RANK[a.kind] - KIND_RANK[b.kind] ||
    VERDICT_RANK[a.reading.verdict ?? "neutral"] - VERDICT_RANK[b.reading.verdict ?? "neutral"] ||
    a.status - b.status ||
    (a.err ?? 0) - (b.err ?? 0)
  );
}

export type VerdictDecision = {
  verdict: Verdict;
  /** The deciding rule (`hlr_err_1`, `delivered`…) or a reason from VERDICT_REASONS. */
  reason: string;
  /** True when the answer is worth checking again: unknown, or absent (a temporary state). */
  recheck: boolean;
  /** The deciding evidence that counted (fresh enough), newest first. */
  evidence: ReadEvidence[];
};

export type DecideOptions = {
  now: Date;
  /** Evidence older than this does not count; null: all evidence counts. */
  maxAgeMs: number | null;
  /** False when the numbering plan rejects the number (libphonenumber's isValid). */
  inNumberingPlan: boolean;
};

/** Whether a verdict is worth checking again later. */
export function needsRecheck(verdict: Verdict): boolean {
  return verdict === "unknown" || verdict === "valid_absent";
}

/**
 * Decides a number's verdict from its evidence: the newest fresh deciding piece wins. With none, a number the
 * numbering plan rejects is `invalid` (`not_in_numbering_plan`), otherwise the verdict is `unknown`.
 */
export function decideVerdict(evidence: readonly EvidenceInput[], options: DecideOptions): VerdictDecision {
  const read: ReadEvidence[] = [];
  for (const e of evidence) {
    const reading = readEvidence(e);
    if (reading) read.push({ ...e, reading });
  }
  read.sort(compareEvidence);
  const cutoff = options.maxAgeMs === null ? null : options.now.getTime() - options.maxAgeMs;
  const fresh = cutoff === null ? read : read.filter((e) => e.at.getTime() >= cutoff);
  const deciding = fresh.filter((e) => e.reading.verdict !== null);
  const top = deciding[0];
  if (top) {
    const verdict = top.reading.verdict!;
    return { verdict, reason: top.reading.rule, recheck: needsRecheck(verdict), evidence: deciding };
  }
  if (!options.inNumberingPlan) return { verdict: "invalid", reason: "not_in_numbering_plan", recheck: false, evidence: [] };
  const reason: keyof typeof VERDICT_REASONS = read.some((e) => e.reading.verdict !== null)
    ? "evidence_too_old"
    : fresh.length > 0
      ? "only_neutral_evidence"
      : "no_evidence";
  return { verdict: "unknown", reason, recheck: true, evidence: [] };
}

const MAX_AGE_UNITS = { h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
export const MAX_AGE_PATTERN = /^([1-9]\d{0,5})([hdw])$/;

/** `max_age` (`<n>h`, `<n>d` or `<n>w`, n ≥ 1) in milliseconds; null when it is not of that form. */
export function parseMaxAge(value: string): number | null {
  const m = MAX_AGE_PATTERN.exec(value);
  if (!m) return null;
  return Number(m[1]) * MAX_AGE_UNITS[m[2] as keyof typeof MAX_AGE_UNITS];
}

/**
 * The IMSI with everything after its MCC+MNC prefix masked: `250011234567890` → `25001**********`. The prefix is
 * the number's mcc+mnc when the IMSI starts with them (3-digit MNCs), else 5 digits. Anything that does not look
 * like an IMSI is masked whole.
 */
export function maskImsi(imsi: string | null, mcc: string | null = null, mnc: string | null = null): string | null {
  if (imsi === null || imsi === "") return null;
  if (!/^\d{6,15}$/.test(imsi)) return "*".repeat(Math.min(imsi.length, 15));
  const home = mcc !== null && mnc !== null ? `${mcc}${mnc}` : "";
  const prefix = home.length >= 5 && home.length <= 6 && imsi.startsWith(home) ? home.length : 5;
  return imsi.slice(0, prefix) + "*".repeat(imsi.length - prefix);
}

/** What the `numbers` table knows about a phone (latest HLR facts and counters). */
export type NumberFacts = {
  countryIso: string | null;
  mcc: string | null;
  mnc: string | null;
  imsi: string | null;
  msc: string | null;
  network: string | null;
  roaming: boolean | null;
  roamingCountry: string | null;
  roamingNetwork: string | null;
  lastHlrAt: Date | null;
  deliveredCount: number;
  failedCount: number;
  lastDeliveredAt: Date | null;
};

export type NumberVerdict = {
  phone: string;
  e164: string;
  verdict: Verdict;
  reason: string;
  recheck: boolean;
  optedOut: boolean;
  country: { iso: string | null; name: string | null };
  operator: { id: string | null; mcc: string | null; mnc: string | null; name: string | null };
  roaming: { active: boolean | null; country: string | null; network: string | null };
  msc: string | null;
  imsiMasked: string | null;
  lastHlrAt: Date | null;
  deliveredCount: number;
  failedCount: number;
  lastDeliveredAt: Date | null;
  evidence: { kind: EvidenceKind; at: Date; status: number; err: number | null; meaning: string; verdict: EvidenceVerdict }[];
};

/** At most this many pieces of evidence are listed in an answer (the newest); the timeline lists everything. */
export const EVIDENCE_LISTED = 20;

/** Assembles a number's answer: the verdict from its evidence, and what we know of its country and operator. */
export function buildNumberVerdict(input: {
  number: NormalizedPhone;
  facts: NumberFacts | null;
  evidence: readonly EvidenceInput[];
  optedOut: boolean;
  options: Omit<DecideOptions, "inNumberingPlan">;
}): NumberVerdict {
  const { number, facts } = input;
  const decision = decideVerdict(input.evidence, { ...input.options, inNumberingPlan: number.valid });
  const iso = number.country ?? facts?.countryIso ?? null;
  const mcc = facts?.mcc ?? null;
  const mnc = mcc === null ? null : (facts?.mnc ?? null);
  return {
    phone: number.phone,
    e164: number.e164,
    verdict: decision.verdict,
    reason: decision.reason,
    recheck: decision.recheck,
    optedOut: input.optedOut,
    country: { iso, name: countryName(iso) },
    operator: { id: operatorId(mcc, mnc), mcc, mnc, name: facts?.network ?? lookupOperator(mcc, mnc)?.name ?? null },
    roaming: { active: facts?.roaming ?? null, country: facts?.roamingCountry ?? null, network: facts?.roamingNetwork ?? null },
    msc: facts?.msc ?? null,
    imsiMasked: maskImsi(facts?.imsi ?? null, mcc, mnc),
    lastHlrAt: facts?.lastHlrAt ?? null,
    deliveredCount: facts?.deliveredCount ?? 0,
    failedCount: facts?.failedCount ?? 0,
    lastDeliveredAt: facts?.lastDeliveredAt ?? null,
    evidence: decision.evidence.slice(0, EVIDENCE_LISTED).map((e) => ({
      kind: e.kind,
      at: e.at,
      status: e.status,
      err: e.err,
      meaning: e.reading.meaning,
      verdict: e.reading.verdict!,
    })),
  };
}
