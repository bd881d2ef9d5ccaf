// A message's current state after status updates (design.md: the greatest event under
// (final?, engagement?, event time, status code), final = {1,2,3,4,20-25,-3}, engagement = {2,4}); the result must
// not depend on the order the updates arrive in, nor on how they are split into batches.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StatusUpdate } from "../../src/domain/callback.js";
import { EMPTY_MESSAGE_STATE, applyRegistration, applyStatusUpdates, messageOutcome, type MessageState, type Registration } from "../../src/domain/message-state.js";
import { compareStatusPoints, statusPointKey } from "../../src/domain/statuses.js";

const T0 = Date.UTC(2024, 5, 5, 11, 0, 0);
const at = (t: number) => new Date(T0 + t * 1000);

function update(status: number, t: number, err = 0, more: Partial<StatusUpdate> = {}): StatusUpdate {
  return {
    smscId: "1",
    phone: "79161234567",
    type: 0,
    status,
    err,
    eventAt: at(t),
    cost: null,
    parts: null,
    sender: null,
    mcc: null,
    mnc: null,
    hlr: null,
    ...more,
  };
}

const apply = (updates: readonly StatusUpdate[], from: MessageState = EMPTY_MESSAGE_STATE) => applyStatusUpdates(from, updates);

// The rule, written from design.md, independently of the code under test.
const FINAL = new Set([-3, 1, 2, 3, 4, 20, 21, 22, 23, 24, 25]);
const ENGAGEMENT = new Set([2, 4]);
function greatest(updates: readonly StatusUpdate[]): StatusUpdate {
  const key = (u: StatusUpdate) => [FINAL.has(u.status) ? 1 : 0, ENGAGEMENT.has(u.status) ? 1 : 0, u.eventAt.getTime(), u.status];
  return updates.reduce((best, u) => {
    const a = key(u);
    const b = key(best);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]! ? u : best;
    return best;
  });
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/** The order-independent part of the state. */
const current = (s: MessageState) => ({ status: s.status, err: s.err, statusAt: s.statusAt, final: s.final });

describe("applyStatusUpdates: the current status", () => {
  it.each<[string, StatusUpdate[], { status: number; err: number; t: number; final: boolean }]>([
    ["one pending update", [update(0, 10)], { status: 0, err: 0, t: 10, final: false }],
    ["delivered (100), then sent (50): delivered stays", [update(1, 100), update(0, 50)], { status: 1, err: 0, t: 100, final: true }],
    ["sent (50), then delivered (100)", [update(0, 50), update(1, 100)], { status: 1, err: 0, t: 100, final: true }],
    ["clicked (100), then delivered later (200): engagement beats time", [update(4, 100), update(1, 200)], { status: 4, err: 0, t: 100, final: true }],
    ["read (50) after delivered (100): engagement beats time", [update(1, 100), update(2, 50)], { status: 2, err: 0, t: 50, final: true }],
    ["clicked (50) vs read (60): both engagement, the later one", [update(4, 50), update(2, 60)], { status: 2, err: 0, t: 60, final: true }],
    ["expired (200) vs delivered (100): expired", [update(3, 200, 6), update(1, 100)], { status: 3, err: 6, t: 200, final: true }],
    ["delivered (100) then expired (200): expired", [update(1, 100), update(3, 200, 6)], { status: 3, err: 6, t: 200, final: true }],
    ["final (100), then pending with a later time (500): final stays", [update(3, 100), update(0, 500)], { status: 3, err: 0, t: 100, final: true }],
    ["undeliverable (100), then waiting (900): undeliverable stays", [update(20, 100, 1), update(-1, 900)], { status: 20, err: 1, t: 100, final: true }],
    ["not found (-3) is final", [update(-3, 100), update(0, 200)], { status: -3, err: 0, t: 100, final: true }],
    ["stopped (-2) is not final: a later delivered wins", [update(-2, 100), update(1, 200)], { status: 1, err: 0, t: 200, final: true }],
    ["stopped (-2) then sent earlier: the later pending one", [update(-2, 300), update(0, 200)], { status: -2, err: 0, t: 300, final: false }],
    ["two finals at the same time: the greater code", [update(1, 100), update(20, 100, 6)], { status: 20, err: 6, t: 100, final: true }],
    ["two pending at the same time: the greater code", [update(0, 100), update(-1, 100)], { status: 0, err: 0, t: 100, final: false }],
    ["the current err comes with the current status", [update(1, 100, 0), update(25, 50, 248)], { status: 1, err: 0, t: 100, final: true }],
  ])("%s", (_name, updates, expected) => {
    const s = apply(updates);
    expect(current(s)).toEqual({ status: expected.status, err: expected.err, statusAt: at(expected.t), final: expected.final });
    expect(greatest(updates).status).toBe(expected.status); // the table agrees with the rule
  });

  it("equal status and time with different err: the same state in either order (the greater err)", () => {
    const a = current(apply([update(1, 100, 6), update(1, 100, 0)]));
    const b = current(apply([update(1, 100, 0), update(1, 100, 6)]));
    expect(a).toEqual(b);
    expect(a.err).toBe(6);
  });

  it("continues from a stored state: a later batch cannot move a final status to a pending one", () => {
    const stored = apply([update(1, 100)]);
    expect(current(apply([update(0, 500)], stored))).toEqual({ status: 1, err: 0, statusAt: at(100), final: true });
    expect(current(apply([update(4, 50)], stored))).toEqual({ status: 4, err: 0, statusAt: at(50), final: true });
  });

  it("keeps the message's facts from its updates", () => {
    const s = apply([update(0, 10, 0, { cost: "3.45", parts: 2, sender: "SHOP", mcc: "250", mnc: "01" }), update(1, 20)]);
    expect(s).toMatchObject({ type: 0, cost: "3.45", parts: 2, sender: "SHOP", mcc: "250", mnc: "01" });
  });

  it("cost, parts and sender come from the update that sets the status, whatever the arrival order", () => {
    const queued = update(-1, 5, 0, { cost: "0.00", parts: 1, sender: "OLD" });
    const sent = update(0, 10, 0, { cost: "3.45", parts: 1, sender: "OLD" });
    const delivered = update(1, 20, 0, { cost: "6.90", parts: 2, sender: "SHOP" });
    for (const order of permutations([queued, sent, delivered])) {
      expect(apply(order)).toMatchObject({ status: 1, cost: "6.90", parts: 2, sender: "SHOP" });
    }
    // In separate batches: the late older update arrives after the state was stored.
    expect(apply([sent], apply([delivered]))).toMatchObject({ cost: "6.90", parts: 2, sender: "SHOP" });
    // An older update fills what the newest did not say.
    expect(apply([update(0, 10, 0, { cost: "3.45", sender: "OLD" })], apply([update(1, 20)]))).toMatchObject({ cost: "3.45", sender: "OLD" });
  });

  it("a gap is filled by the newest update that has the value, whatever the arrival order and batches", () => {
    const delivered = update(1, 20); // a receipt import: no cost, parts or sender
    const sent = update(0, 10, 0, { cost: "3.45", parts: 2, sender: "SHOP" });
    const queued = update(-1, 5, 0, { cost: "0.00", parts: 1, sender: "OLD" });
    for (const order of permutations([delivered, sent, queued])) {
      expect(apply(order)).toMatchObject({ status: 1, cost: "3.45", parts: 2, sender: "SHOP" });
      // one update per batch, as if each arrived after the previous was stored
      expect(order.reduce((state, u) => apply([u], state), EMPTY_MESSAGE_STATE)).toMatchObject({ status: 1, cost: "3.45", parts: 2, sender: "SHOP" });
    }
  });

  it("a registration's parts and sender win over every callback, in any order; callbacks fill what it left empty", () => {
    const registration = (parts: number | null, sender: string | null): Registration => ({
      sentAt: at(0),
      sender,
      campaign: null,
      parts,
      validUntil: null,
      menuId: null,
      countryIso: null,
    });
    const sent = update(0, 10, 0, { parts: 3, sender: "CB-OLD" });
    const delivered = update(1, 20, 0, { parts: 2, sender: "CB-NEW" });
    type Step = { kind: "reg"; r: Registration } | { kind: "cb"; u: StatusUpdate };
    const run = (steps: Step[]) => steps.reduce((s, step) => (step.kind === "reg" ? applyRegistration(s, step.r) : apply([step.u], s)), EMPTY_MESSAGE_STATE);
    for (const [reg, expected] of [
      [registration(1, "REG"), { parts: 1, sender: "REG" }],
      [registration(null, null), { parts: 2, sender: "CB-NEW" }],
      [registration(5, null), { parts: 5, sender: "CB-NEW" }],
    ] as const) {
      for (const order of permutations<Step>([{ kind: "reg", r: reg }, { kind: "cb", u: sent }, { kind: "cb", u: delivered }])) {
        expect(run(order)).toMatchObject({ registered: true, ...expected });
      }
    }
  });

  it("a message stored before the facts' points were kept: its values count as coming with its current status", () => {
    const legacy = (s: MessageState): MessageState => ({ ...s, costFrom: null, partsFrom: null, senderFrom: null, mccFrom: null });
    const stored = legacy(apply([update(1, 20, 0, { cost: "6.90", parts: 2, sender: "SHOP", mcc: "250", mnc: "01" })]));
    expect(apply([update(0, 10, 0, { cost: "0.01", parts: 9, sender: "LATE" })], stored)).toMatchObject({ cost: "6.90", parts: 2, sender: "SHOP" });
    // The operator was the first callback's to name one (not by the rule): it counts as the lowest, so the next
    // update that names one decides it, and from then on the rule holds (replay decides it from every callback).
    const retried = apply([update(0, 10, 0, { mcc: "250", mnc: "99" })], stored);
    expect(retried).toMatchObject({ mcc: "250", mnc: "99", operatorMcc: "250", operatorMnc: "99" });
    expect(apply([update(-1, 5, 0, { mcc: "250", mnc: "98" })], retried)).toMatchObject({ mcc: "250", mnc: "99" });
    expect(apply([update(-1, 5, 0, { mcc: "250", mnc: "98" }), update(1, 20, 0, { mcc: "250", mnc: "01" })], stored)).toMatchObject({ mcc: "250", mnc: "01" });
    // An mnc the old rule left without its mcc belongs to no operator.
    expect(apply([update(1, 20)], { ...stored, mcc: null, mnc: "07" })).toMatchObject({ mcc: null, mnc: null });
    expect(apply([update(2, 30, 0, { cost: "7.00" })], stored)).toMatchObject({ status: 2, cost: "7.00", parts: 2 });
    const registered: MessageState = { ...stored, registered: true, parts: 4, sender: "REG" };
    expect(apply([update(2, 30, 0, { parts: 1, sender: "CB" })], registered)).toMatchObject({ parts: 4, sender: "REG" });

    // The point is fixed from the stored state before anything new is applied, so the new updates' order and
    // batches do not matter: a newer status without a cost cannot raise the bar for the stored cost.
    const queued = legacy(apply([update(-1, 5, 0, { cost: "0.01" })]));
    const delivered = update(1, 30);
    const sent = update(0, 20, 0, { cost: "2.00" });
    for (const order of permutations([delivered, sent])) {
      expect(apply(order, queued)).toMatchObject({ status: 1, cost: "2.00" });
      expect(apply([order[1]!], apply([order[0]!], queued))).toMatchObject({ status: 1, cost: "2.00" });
    }
    // A registration that says nothing of parts does not turn the stored parts into the registration's.
    const withParts = legacy(apply([update(-1, 5, 0, { parts: 1 })]));
    const reg: Registration = { sentAt: at(0), sender: null, campaign: null, parts: null, validUntil: null, menuId: null, countryIso: null };
    const newer = update(1, 30, 0, { parts: 3 });
    expect(apply([newer], applyRegistration(withParts, reg)).parts).toBe(3);
    expect(applyRegistration(apply([newer], withParts), reg).parts).toBe(3);
  });

  it("two updates at the same point with different values: the greater value, in either order", () => {
    const a = update(1, 20, 0, { cost: "3.45", parts: 1, sender: "A", mcc: "250", mnc: "02" });
    const b = update(1, 20, 0, { cost: "10.00", parts: 2, sender: "B", mcc: "250", mnc: "01" });
    const c = update(1, 20, 0, { mcc: "250", mnc: null });
    for (const order of permutations([a, b, c])) {
      expect(apply(order)).toMatchObject({ cost: "10.00", parts: 2, sender: "B", mcc: "250", mnc: "02" });
      expect(apply([order[2]!], apply([order[1]!], apply([order[0]!])))).toMatchObject({ cost: "10.00", parts: 2, sender: "B", mcc: "250", mnc: "02" });
    }
    // the stored "3.4500" and a callback's "3.45" are the same cost: nothing changes
    const stored = { ...apply([a]), cost: "3.4500" };
    expect(apply([a], stored).cost).toBe("3.4500");
  });

  it("the message's operator comes from the greatest update that names one, and statistics place it there", () => {
    const queued = update(-1, 5, 0, { mcc: "250", mnc: "99" }); // an early callback naming another operator
    const sent = update(0, 10, 0, { mcc: "250", mnc: "01" });
    const delivered = update(1, 20); // a receipt without mcc/mnc
    const hlrOperator = { mcc: "250", mnc: "20" };
    for (const order of permutations([queued, sent, delivered])) {
      const state = applyStatusUpdates(EMPTY_MESSAGE_STATE, order, { numberOperator: hlrOperator });
      expect(state).toMatchObject({ status: 1, mcc: "250", mnc: "01", operatorMcc: "250", operatorMnc: "01" });
      const oneByOne = order.reduce((s, u) => applyStatusUpdates(s, [u], { numberOperator: hlrOperator }), EMPTY_MESSAGE_STATE);
      expect(oneByOne).toMatchObject({ mcc: "250", mnc: "01", operatorMcc: "250", operatorMnc: "01" });
    }
    // Until a callback names one, the number's HLR operator places it.
    expect(applyStatusUpdates(EMPTY_MESSAGE_STATE, [delivered], { numberOperator: hlrOperator })).toMatchObject({ mcc: null, operatorMcc: "250", operatorMnc: "20" });
  });

  it("first, last and delivered times", () => {
    const s = apply([update(1, 300), update(0, 100), update(2, 400), update(-1, 50)]);
    expect(s).toMatchObject({ firstStatusAt: at(50), lastStatusAt: at(400), deliveredAt: at(300) });
  });

  it("an HLR or ping answer is 'delivered' (for latency) only with err 0: status 1 means the HLR answered", () => {
    expect(apply([update(1, 100, 6, { type: 4 })]).deliveredAt).toBeNull();
    expect(apply([update(1, 100, 1, { type: 5 })]).deliveredAt).toBeNull();
    expect(apply([update(1, 100, 0, { type: 4 })]).deliveredAt).toEqual(at(100));
  });
});

describe("messageOutcome: what a number's counters count", () => {
  it.each<[number | null, number | null, "delivered" | "failed" | null]>([
    [1, 0, "delivered"],
    [2, 8, "delivered"],
    [4, 0, "delivered"],
    [1, null, "delivered"],
    [3, 0, "failed"],
    [20, 0, "failed"],
    [22, 0, "failed"],
    [23, 0, "failed"],
    [24, 0, "failed"],
    [25, 0, "failed"],
    [0, 0, null],
    [-1, 0, null],
    [-2, 0, null],
    [null, 0, null],
    [1, 4, null],
    [20, 4, null],
    [1, 5, null],
  ])("status %s, type %s → %s", (status, type, expected) => {
    expect(messageOutcome(status, type)).toBe(expected);
  });
});

describe("applyStatusUpdates: order independence (property)", () => {
  const statusCode = fc.constantFrom(-3, -2, -1, 0, 1, 2, 3, 4, 20, 21, 22, 23, 24, 25);
  /** A set of distinct status events: no two share (status, time), so the greatest one is unique. */
  const updates = (maxLength: number) =>
    fc
      .uniqueArray(fc.record({ status: statusCode, t: fc.integer({ min: 0, max: 30 }), err: fc.integer({ min: 0, max: 255 }) }), {
        minLength: 1,
        maxLength,
        selector: (e) => `${e.status}@${e.t}`,
      })
      .map((events) => events.map((e) => update(e.status, e.t, e.err)));

  it("every permutation gives the same status, err and status time: the greatest under design.md's key", () => {
    fc.assert(
      fc.property(updates(5), (set) => {
        const want = greatest(set);
        const expected = { status: want.status, err: want.err, statusAt: want.eventAt, final: FINAL.has(want.status) };
        const reference = apply(set);
        for (const order of permutations(set)) {
          const s = apply(order);
          expect(current(s)).toEqual(expected);
          expect({ first: s.firstStatusAt, last: s.lastStatusAt, delivered: s.deliveredAt }).toEqual({
            first: reference.firstStatusAt,
            last: reference.lastStatusAt,
            delivered: reference.deliveredAt,
          });
        }
      }),
      { numRuns: 300, seed: 424242 },
    );
  });

  /** The set, the same set in another order, and where to cut that order into batches. */
  const shuffledWithCuts = (set: StatusUpdate[]) =>
    fc.tuple(fc.constant(set), fc.shuffledSubarray(set, { minLength: set.length, maxLength: set.length }), fc.array(fc.nat(), { maxLength: 4 }));

  /** Applies the updates batch by batch, cut at the given places, each batch continuing from the stored state. */
  function inBatches(order: readonly StatusUpdate[], cuts: readonly number[]): MessageState {
    const points = [...new Set(cuts.map((c) => c % (order.length + 1)))].sort((a, b) => a - b);
    let state = EMPTY_MESSAGE_STATE;
    let from = 0;
    for (const p of [...points, order.length]) {
      state = apply(order.slice(from, p), state);
      from = p;
    }
    return state;
  }

  it("statusPointKey sorts as the ordering rule, with err as the last tie-break, over every status, err and time", () => {
    // The reference is the rule from design.md (FINAL, ENGAGEMENT above), not the code's compareStatusPoints.
    const ms = fc.oneof(
      fc.integer({ min: -1000, max: 1000 }).map((t) => T0 + t), // close together, so that the later fields decide
      fc.bigInt({ min: -8_640_000_000_000_000n, max: 8_640_000_000_000_000n }).map(Number), // anywhere a Date can be
    );
    const point = fc.record({
      status: fc.oneof(statusCode, fc.integer({ min: -32768, max: 32767 })),
      ms,
      err: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: -2147483648, max: 2147483647 })),
    });
    const tuple = (p: { status: number; ms: number; err: number }) => [FINAL.has(p.status) ? 1 : 0, ENGAGEMENT.has(p.status) ? 1 : 0, p.ms, p.status, p.err];
    const byTuple = (a: number[], b: number[]) => a.map((x, i) => Math.sign(x - b[i]!)).find((d) => d !== 0) ?? 0;
    fc.assert(
      fc.property(point, point, (a, b) => {
        const ka = statusPointKey({ status: a.status, at: new Date(a.ms), err: a.err });
        const kb = statusPointKey({ status: b.status, at: new Date(b.ms), err: b.err });
        expect(ka < kb ? -1 : ka > kb ? 1 : 0).toBe(byTuple(tuple(a), tuple(b)));
        expect(ka < "~" && kb < "~").toBe(true); // a registration's point is above every status point
      }),
      { numRuns: 3000, seed: 31337 },
    );
    // neighbouring milliseconds far from 1970, where a double would no longer tell them apart
    const far = (ms: number) => statusPointKey({ status: 0, at: new Date(ms), err: 0 });
    expect(far(8_639_999_999_999_999) > far(8_639_999_999_999_998)).toBe(true);
    expect(far(400_000_000_000_004) > far(400_000_000_000_003)).toBe(true);
  });

  it("cost, parts and the operator: any order, in any batches, give the values of the greatest updates that carry them", () => {
    const fact = fc.record({
      cost: fc.option(fc.constantFrom("0.10", "0.20", "0.30")),
      parts: fc.option(fc.integer({ min: 1, max: 4 })),
      mcc: fc.option(fc.constantFrom("250", "255")),
      mnc: fc.constantFrom("01", "02"),
    });
    const withFacts = updates(8)
      .chain((set) => fc.tuple(...set.map(() => fact)).map((facts) => set.map((u, i) => ({ ...u, ...facts[i]! }))))
      .chain(shuffledWithCuts);
    fc.assert(
      fc.property(withFacts, ([set, order, cuts]) => {
        // the reference: among the updates that carry the value, the greatest under the rule (err last)
        const byRule = (a: StatusUpdate, b: StatusUpdate) => compareStatusPoints({ status: a.status, at: a.eventAt }, { status: b.status, at: b.eventAt }) || a.err - b.err;
        const bestOf = (f: "cost" | "parts" | "mcc") => set.filter((u) => u[f] !== null).sort(byRule).at(-1);
        const state = inBatches(order, cuts);
        expect({ cost: state.cost, parts: state.parts, mcc: state.mcc, mnc: state.mnc }).toEqual({
          cost: bestOf("cost")?.cost ?? null,
          parts: bestOf("parts")?.parts ?? null,
          mcc: bestOf("mcc")?.mcc ?? null,
          mnc: bestOf("mcc")?.mnc ?? null,
        });
      }),
      { numRuns: 300, seed: 99 },
    );
  });

  it("any order, split into any batches, gives the same state as one batch", () => {
    const split = updates(12).chain(shuffledWithCuts);
    fc.assert(
      fc.property(split, ([set, order, cuts]) => {
        const one = apply(set);
        const state = inBatches(order, cuts);
        expect(current(state)).toEqual(current(one));
        expect(current(one).status).toBe(greatest(set).status);
      }),
      { numRuns: 300, seed: 777 },
    );
  });
});
