import { describe, expect, it } from "vitest";
import { countryName, isPhoneRegion, lookupOperator, operatorId } from "../../src/domain/operators.js";
import { normalizePhone } from "../../src/domain/phone.js";
import {
  buildNumberVerdict,
  decideVerdict,
  evidenceKindOfType,
  maskImsi,
  parseMaxAge,
  readEvidence,
  type EvidenceInput,
} from "../../src/domain/verdict.js";
import { expectedRecheck, RULE_CASES, SEQUENCE_CASES } from "../fixtures/verdicts/rules.js";

const NOW = new Date("2024-06-10T00:00:00Z");
const at = (minutes: number) => new Date(Date.UTC(2024, 5, 1) + minutes * 60_000);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const decide = (evidence: EvidenceInput[], maxAgeMs: number | null = null, inNumberingPlan = true) =>
  decideVerdict(evidence, { now: NOW, maxAgeMs, inNumberingPlan });

describe("decideVerdict: one piece of evidence, each rule", () => {
  it.each(RULE_CASES)("$name → $verdict ($reason)", (row) => {
    const e: EvidenceInput = { kind: evidenceKindOfType(row.type), at: at(0), status: row.status, err: row.err };
    const d = decide([e]);
    expect({ verdict: d.verdict, reason: d.reason, recheck: d.recheck }).toEqual({
      verdict: row.verdict,
      reason: row.reason,
      recheck: expectedRecheck(row.verdict),
    });
    expect(d.evidence.map((x) => x.kind)).toEqual(row.kind === null ? [] : [row.kind]);
  });

  it.each([
    ["hlr", 1, 0, true],
    ["hlr", 1, 6, true],
    ["hlr", 0, 0, false],
    ["delivery", -1, 0, false],
    ["delivery", -2, 0, false],
    ["delivery", -3, 0, false],
    ["delivery", 1, 0, true],
  ] as const)("%s status %i err %i is an outcome: %s", (kind, status, err, outcome) => {
    expect(readEvidence({ kind, status, err }) !== null).toBe(outcome);
  });

  it("every reading has a meaning", () => {
    for (const row of RULE_CASES) {
      const r = readEvidence({ kind: evidenceKindOfType(row.type), status: row.status, err: row.err });
      if (r) expect(r.meaning.length).toBeGreaterThan(3);
    }
  });

  it("an err code missing from the table is neutral", () => {
    expect(readEvidence({ kind: "delivery", status: 20, err: 7 })).toMatchObject({ verdict: null, rule: "delivery_err_7" });
    expect(decide([{ kind: "hlr", at: at(0), status: 1, err: 77 }]).verdict).toBe("unknown");
  });
});

describe("decideVerdict: the newest deciding evidence wins", () => {
  it.each(SEQUENCE_CASES)("$name", ({ steps, verdict, reason }) => {
    const evidence = steps.map((s) => ({ kind: evidenceKindOfType(s.type), at: at(s.minutes), status: s.status, err: s.err }));
    const d = decide(evidence);
    expect([d.verdict, d.reason]).toEqual([verdict, reason]);
    // Whatever order the rows come in.
    expect(decide([...evidence].reverse())).toEqual(d);
  });

  it("lists the deciding evidence newest first, neutral left out", () => {
    const d = decide([
      { kind: "hlr", at: at(0), status: 1, err: 1 },
      { kind: "delivery", at: at(20), status: 23, err: 0 },
      { kind: "delivery", at: at(10), status: 1, err: 0 },
      { kind: "ping", at: at(5), status: 1, err: 0 },
    ]);
    expect(d.evidence.map((e) => [e.kind, e.at.toISOString()])).toEqual([
      ["delivery", at(10).toISOString()],
      ["ping", at(5).toISOString()],
      ["hlr", at(0).toISOString()],
    ]);
    expect(d.reason).toBe("delivered");
  });

  it("at the same instant a delivery outcome beats an HLR answer, whatever the input order", () => {
    const a: EvidenceInput = { kind: "hlr", at: at(0), status: 1, err: 1 };
    const b: EvidenceInput = { kind: "delivery", at: at(0), status: 1, err: 0 };
    expect(decide([a, b]).reason).toBe("delivered");
    expect(decide([b, a]).reason).toBe("delivered");
  });
});

describe("decideVerdict: max_age, no evidence, numbering plan", () => {
  const old: EvidenceInput = { kind: "hlr", at: new Date(NOW.getTime() - 10 * DAY), status: 1, err: 1 };
  const fresh: EvidenceInput = { kind: "delivery", at: new Date(NOW.getTime() - 1 * DAY), status: 1, err: 0 };

  it.each([
    ["no max_age: everything counts", [old], null, "invalid", "hlr_err_1"],
    ["old evidence only", [old], 7 * DAY, "unknown", "evidence_too_old"],
    ["the boundary counts", [old], 10 * DAY, "invalid", "hlr_err_1"],
    ["just past the boundary", [old], 10 * DAY - 1, "unknown", "evidence_too_old"],
    ["fresh beats old", [old, fresh], 7 * DAY, "valid_reachable", "delivered"],
    ["old deciding and fresh neutral", [old, { ...fresh, status: 24 }], 7 * DAY, "unknown", "evidence_too_old"],
    ["nothing at all", [], null, "unknown", "no_evidence"],
    ["neutral only", [{ ...fresh, status: 23 }], null, "unknown", "only_neutral_evidence"],
  ] as const)("%s", (_name, evidence, maxAge, verdict, reason) => {
    const d = decide([...evidence], maxAge);
    expect([d.verdict, d.reason, d.recheck]).toEqual([verdict, reason, expectedRecheck(verdict)]);
    if (verdict === "unknown") expect(d.evidence).toEqual([]);
  });

  it("a number the numbering plan rejects is invalid when nothing fresh decides", () => {
    expect(decide([], null, false)).toMatchObject({ verdict: "invalid", reason: "not_in_numbering_plan", recheck: false });
    expect(decide([old], 7 * DAY, false)).toMatchObject({ verdict: "invalid", reason: "not_in_numbering_plan" });
  });

  it("but a fresh answer about it decides (the plan data may lag a new range)", () => {
    expect(decide([fresh], null, false)).toMatchObject({ verdict: "valid_reachable", reason: "delivered" });
  });
});

describe("parseMaxAge", () => {
  it.each([
    ["1h", HOUR],
    ["36h", 36 * HOUR],
    ["7d", 7 * DAY],
    ["2w", 14 * DAY],
  ])("%s", (value, ms) => expect(parseMaxAge(value)).toBe(ms));

  it.each(["", "0d", "7", "d", "1.5d", "-1d", "7D", "7m", "1000000d", " 7d"])("%j is not a max_age", (value) => {
    expect(parseMaxAge(value)).toBeNull();
  });
});

describe("maskImsi", () => {
  it.each([
    ["250011234567890", "250", "01", "25001**********"],
    ["250011234567890", null, null, "25001**********"],
    ["310260123456789", "310", "260", "310260*********"],
    ["250021234567891", "250", "01", "25002**********"],
    ["12345", null, null, "*****"],
    ["imsi-x", null, null, "******"],
  ])("%s (mcc %s, mnc %s) → %s", (imsi, mcc, mnc, masked) => {
    expect(maskImsi(imsi, mcc, mnc)).toBe(masked);
  });

  it("null stays null", () => expect(maskImsi(null)).toBeNull());
});

describe("operators and countries", () => {
  it.each([
    ["250", "01", "MTS"],
    ["250", "02", "MegaFon"],
    ["250", "99", "Beeline"],
    ["401", "02", "Kcell"],
    ["250", "1", "MTS"],
  ])("%s-%s is %s", (mcc, mnc, name) => {
    expect(lookupOperator(mcc, mnc)?.name).toBe(name);
  });

  it("an unknown or malformed code is null", () => {
    expect(lookupOperator("250", "77")).toBeNull();
    expect(lookupOperator("25", "01")).toBeNull();
    expect(lookupOperator(null, "01")).toBeNull();
  });

  it("operator ids are mcc-mnc", () => {
    expect(operatorId("250", "01")).toBe("250-01");
    expect(operatorId("250", null)).toBeNull();
  });

  it.each([
    ["RU", "Russia"],
    ["KZ", "Kazakhstan"],
    ["kz", "Kazakhstan"],
    [null, null],
    ["X1", null],
  ])("country %s is %s", (iso, name) => expect(countryName(iso)).toBe(name));

  it("knows which countries the numbering plan has", () => {
    expect(isPhoneRegion("RU")).toBe(true);
    expect(isPhoneRegion("XX")).toBe(false);
  });
});

describe("buildNumberVerdict", () => {
  const number = (input: string) => {
    const n = normalizePhone(input, "RU");
    if (!n.ok) throw new Error(n.error.message);
    return n.value;
  };

  it("a number we know nothing about", () => {
    const v = buildNumberVerdict({ number: number("+7 916 123-45-67"), facts: null, evidence: [], optedOut: false, options: { now: NOW, maxAgeMs: null } });
    expect(v).toEqual({
      phone: "79161234567",
      e164: "+79161234567",
      verdict: "unknown",
      reason: "no_evidence",
      recheck: true,
      optedOut: false,
      country: { iso: "RU", name: "Russia" },
      operator: { id: null, mcc: null, mnc: null, name: null },
      roaming: { active: null, country: null, network: null },
      msc: null,
      imsiMasked: null,
      lastHlrAt: null,
      deliveredCount: 0,
      failedCount: 0,
      lastDeliveredAt: null,
      evidence: [],
    });
  });

  it("operator name from the HLR's net, else from the dataset; +7 7xx is Kazakhstan", () => {
    const facts = {
      countryIso: "KZ",
      mcc: "401",
      mnc: "02",
      imsi: "401021234567890",
      msc: "77010000000",
      network: null,
      roaming: false,
      roamingCountry: null,
      roamingNetwork: null,
      lastHlrAt: at(0),
      deliveredCount: 2,
      failedCount: 1,
      lastDeliveredAt: at(5),
    };
    const v = buildNumberVerdict({ number: number("77011234567"), facts, evidence: [], optedOut: false, options: { now: NOW, maxAgeMs: null } });
    expect(v.country).toEqual({ iso: "KZ", name: "Kazakhstan" });
    expect(v.operator).toEqual({ id: "401-02", mcc: "401", mnc: "02", name: "Kcell" });
    expect(v.imsiMasked).toBe("40102**********");
    const named = buildNumberVerdict({ number: number("77011234567"), facts: { ...facts, network: "Kcell JSC" }, evidence: [], optedOut: true, options: { now: NOW, maxAgeMs: null } });
    expect(named.operator.name).toBe("Kcell JSC");
    expect(named.optedOut).toBe(true);
  });

  it("lists at most 20 pieces of evidence, the newest", () => {
    const evidence = Array.from({ length: 30 }, (_, i) => ({ kind: "delivery" as const, at: at(i), status: 1, err: 0 }));
    const v = buildNumberVerdict({ number: number("79161234567"), facts: null, evidence, optedOut: false, options: { now: NOW, maxAgeMs: null } });
    expect(v.evidence).toHaveLength(20);
    expect(v.evidence[0]!.at).toEqual(at(29));
  });
});
