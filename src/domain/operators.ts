// Names for operators (mcc/mnc) and countries (ISO 3166-1 alpha-2), for answers whose HLR carried none.
// Operators come from the `mcc-mnc-list` package (MIT; its data is the Wikipedia "Mobile country code" list),
// indexed once, on first use. Country names come from the runtime's CLDR data (Intl.DisplayNames, English).
// Pure lookups: no I/O beyond loading the package, no clock.
import { isSupportedCountry } from "libphonenumber-js/max";
import { all as allOperators } from "mcc-mnc-list";

export type OperatorName = {
  mcc: string;
  mnc: string;
  /** The brand people know (MTS, Kcell), else the operator's legal name. */
  name: string | null;
  /** The ISO country the dataset files the code under (null for international codes). */
  countryIso: string | null;
};

/** An operator written as one key: `250-01`. */
export function operatorId(mcc: string | null, mnc: string | null): string | null {
  return mcc === null || mnc === null ? null : `${mcc}-${mnc}`;
}

let index: Map<string, OperatorName> | null = null;

/** Dataset status, best first: a code listed twice keeps the entry that is in service. */
const STATUS_RANK: Record<string, number> = { Operational: 0, "Temporary operational": 1, Testing: 2 };
const rank = (status: string | null | undefined) => STATUS_RANK[status ?? ""] ?? 9;

function buildIndex(): Map<string, OperatorName> {
  const map = new Map<string, OperatorName>();
  const ranks = new Map<string, number>();
  for (const r of allOperators()) {
    if (!r.mcc || !r.mnc) continue;
    const key = `${r.mcc}-${r.mnc}`;
    const known = ranks.get(key);
    if (known !== undefined && known <= rank(r.status)) continue;
    const name = (r.brand || r.operator || "").trim() || null;
    const country = /^[A-Z]{2}$/.test(r.countryCode ?? "") ? r.countryCode : null;
    map.set(key, { mcc: r.mcc, mnc: r.mnc, name, countryIso: country });
    ranks.set(key, rank(r.status));
  }
  return map;
}

/**
 * The dataset's entry for an operator code. An MNC written with a different number of leading zeros than the
 * dataset's (`1`, `001` for `01`) is found too.
 */
export function lookupOperator(mcc: string | null, mnc: string | null): OperatorName | null {
  if (mcc === null || mnc === null || !/^\d{3}$/.test(mcc) || !/^\d{1,3}$/.test(mnc)) return null;
  index ??= buildIndex();
  const forms = [mnc, mnc.padStart(2, "0"), mnc.padStart(3, "0"), String(Number(mnc)).padStart(2, "0")];
  for (const form of forms) {
    const hit = index.get(`${mcc}-${form}`);
    if (hit) return hit;
  }
  return null;
}

let displayNames: Intl.DisplayNames | null = null;
/** Names already looked up (Intl.DisplayNames is slow, and there are only a few hundred codes). */
const countryNames = new Map<string, string | null>();

/** The English name of an ISO 3166-1 alpha-2 country (`KZ` → `Kazakhstan`); null when it names none. */
export function countryName(iso: string | null): string | null {
  if (iso === null) return null;
  const known = countryNames.get(iso);
  if (known !== undefined) return known;
  if (!/^[A-Za-z]{2}$/.test(iso)) return null;
  displayNames ??= new Intl.DisplayNames(["en"], { type: "region", fallback: "none" });
  let name: string | null;
  try {
    name = displayNames.of(iso.toUpperCase()) ?? null;
  } catch {
    name = null;
  }
  countryNames.set(iso, name);
  return name;
}

/** True when the numbering plan knows this ISO country (so it can read national numbers from it). */
export function isPhoneRegion(iso: string): boolean {
  return /^[A-Z]{2}$/.test(iso) && isSupportedCountry(iso);
}
