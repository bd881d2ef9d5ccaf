import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  computeFunnel,
  MENU_ERROR_CODES,
  menuNodes,
  menuPathVisits,
  parseVoiceMenu,
  quantile,
  type FunnelCall,
  type MenuParseResult,
  type VoiceMenu,
} from "../../src/domain/ivr-menu.js";
import { ERROR_CASES } from "../fixtures/ivr/error-cases.js";
import { SMSC_EXAMPLE_MENU, SMSC_EXAMPLE_TEXT } from "../fixtures/ivr/smsc-example.js";

const menuOf = (text: string): VoiceMenu => {
  const r = parseVoiceMenu(text);
  if (!r.ok) throw new Error(`expected a valid menu, got ${JSON.stringify(r.errors)}`);
  return r.menu;
};
const errorsOf = (r: MenuParseResult) => (r.ok ? [] : r.errors.map(({ code, line, column }) => ({ code, line, column })));

describe("parseVoiceMenu: SMSC's documented example", () => {
  it("parses into the tree SMSC's page describes", () => {
    expect(parseVoiceMenu(SMSC_EXAMPLE_TEXT)).toEqual({ ok: true, menu: SMSC_EXAMPLE_MENU });
  });

  it("keeps repeated keys as action lists in order, finds the labels, keeps $phone", () => {
    const menu = menuOf(SMSC_EXAMPLE_TEXT);
    const item = (path: string) => findItem(menu, path);
    expect(item("7").actions.map((a) => a.type)).toEqual(["say", "record", "say"]);
    expect(item("5").actions.map((a) => a.type)).toEqual(["url", "call"]);
    expect(item("3").actions.map((a) => a.type)).toEqual(["sms", "end"]);
    expect(menu.labels.map((l) => l.name)).toEqual(["err", "callerr"]);
    expect(item("4").actions[0]).toEqual({ type: "sms", phone: "$phone", sender: "Sender", text: "Ваш номер: $phone" });
    expect(menuNodes(menu).map((n) => n.path)).toEqual(["", "1", "11", "12", "13", "2", "21", "3", "4", "5", "6", "7"]);
  });

  it("parses the same with CR LF line breaks", () => {
    expect(parseVoiceMenu(SMSC_EXAMPLE_TEXT.replace(/\n/g, "\r\n"))).toEqual({ ok: true, menu: SMSC_EXAMPLE_MENU });
  });
});

function findItem(menu: VoiceMenu, path: string) {
  let items = menu.items;
  let found: VoiceMenu["items"][number] | undefined;
  for (let i = 1; i <= path.length; i++) {
    found = items.find((x) => x.path === path.slice(0, i));
    if (!found) throw new Error(`no item ${path}`);
    items = found.items;
  }
  return found!;
}

describe("parseVoiceMenu: one case per error code, with its line and column", () => {
  it.each(ERROR_CASES)("$name", ({ text, errors }) => {
    expect(errorsOf(parseVoiceMenu(text))).toEqual(errors);
  });

  it("covers every error code", () => {
    const covered = new Set(ERROR_CASES.flatMap((c) => c.errors.map((e) => e.code)));
    expect([...MENU_ERROR_CODES].filter((c) => !covered.has(c))).toEqual([]);
  });

  it("every error has a message", () => {
    for (const { text } of ERROR_CASES) {
      const r = parseVoiceMenu(text);
      expect(r.ok).toBe(false);
      if (!r.ok) for (const e of r.errors) expect(e.message.length).toBeGreaterThan(10);
    }
  });

  it("returns every problem at once, in the order of the text", () => {
    const text = ["{menu: Выберите", "1: call:79990000001 wait=500 err:nowhere", "10: x", "31: y", "2:", "4: sms:1,S", "5: record: 0"].join("\n");
    expect(errorsOf(parseVoiceMenu(text))).toEqual([
      { code: "unbalanced_braces", line: 1, column: 1 },
      { code: "wait_out_of_range", line: 2, column: 26 },
      { code: "undefined_label", line: 2, column: 34 },
      { code: "key_out_of_range", line: 3, column: 1 },
      { code: "orphan_subitem", line: 4, column: 1 },
      { code: "empty_item", line: 5, column: 1 },
      { code: "bad_sms", line: 6, column: 8 },
      { code: "bad_record_seconds", line: 7, column: 12 },
    ]);
  });

  it("counts characters, not UTF-16 units, against the 1000-character limit", () => {
    const base = "{menu: a\n1: }";
    const exactly = `{menu: a\n1: ${"😀".repeat(1000 - base.length)}}`;
    expect([...exactly].length).toBe(1000);
    expect(parseVoiceMenu(exactly).ok).toBe(true);
    expect(errorsOf(parseVoiceMenu(`${exactly}!`))).toEqual([{ code: "message_too_long", line: 2, column: 992 }]);
  });
});

describe("parseVoiceMenu: what the syntax allows", () => {
  it("nests sub-items to any depth, in key order, whatever order they are written in", () => {
    const menu = menuOf("{menu: m\n1111: d\n1: a\n111: c\n11: b\n12: e\n9: z}");
    expect(menuNodes(menu).map((n) => n.path)).toEqual(["", "1", "11", "111", "1111", "12", "9"]);
    expect(findItem(menu, "1111")).toEqual({ key: "1", path: "1111", actions: [{ type: "say", text: "d" }], items: [] });
  });

  it("reads every command and its arguments", () => {
    const menu = menuOf(
      [
        "Старт {menu: Меню",
        "строка два меню",
        "",
        "1: url",
        "1: url:https://crm.example/ivr",
        "2: call:+7 916 123-45-67, 79990000002 wait=0 ok:end err: fail record",
        "3: call:79990000003",
        "4: record",
        "4: record:3600",
        "5: sms:79990000004,Shop,Ваш код: 1,2,3",
        "6: end",
        "7: back",
        "7: start",
        "7: repeat",
        "8: End",
        "fail: end}",
        "Конец",
      ].join("\n"),
    );
    expect(menu.startText).toBe("Старт");
    expect(menu.menuText).toBe("Меню\nстрока два меню");
    expect(menu.endText).toBe("Конец");
    const actions = Object.fromEntries(menu.items.map((i) => [i.path, i.actions]));
    expect(actions).toEqual({
      "1": [{ type: "url", address: null }, { type: "url", address: "https://crm.example/ivr" }],
      "2": [{ type: "call", phones: ["+7 916 123-45-67", "79990000002"], wait: 0, ok: "end", err: "fail", record: true }],
      "3": [{ type: "call", phones: ["79990000003"], wait: null, ok: null, err: null, record: false }],
      "4": [{ type: "record", seconds: null }, { type: "record", seconds: 3600 }],
      "5": [{ type: "sms", phone: "79990000004", sender: "Shop", text: "Ваш код: 1,2,3" }],
      "6": [{ type: "end" }],
      "7": [{ type: "back" }, { type: "start" }, { type: "repeat" }],
      "8": [{ type: "say", text: "End" }],
    });
    expect(menu.labels).toEqual([{ name: "fail", actions: [{ type: "end" }] }]);
    expect(menu.specialKeys).toEqual([]);
  });

  it("lets err: jump to a step (an item path) or end, and a label repeat on consecutive lines", () => {
    const menu = menuOf("{menu: m\n1: call:79990000001 err:12\n12: x\n2: call:79990000002 err:end\nbye: a\nbye: b}");
    expect(menu.labels).toEqual([{ name: "bye", actions: [{ type: "say", text: "a" }, { type: "say", text: "b" }] }]);
  });

  it("never throws and always answers one shape, whatever the text", () => {
    const pieces = fc.constantFrom("{menu:", "{", "}", "\n", "\r\n", "1:", "12:", "0:", "*:", "#:", "err:", "call:", "sms:", "record:", "url", " wait=", "7999", ",", "$phone", "😀", "x", " ");
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string()), { maxLength: 60 }), (parts) => {
        const r = parseVoiceMenu(parts.join(""));
        if (r.ok) expect(r.menu.items.length).toBeGreaterThan(0);
        else for (const e of r.errors) expect(e.line >= 1 && e.column >= 1 && MENU_ERROR_CODES.includes(e.code)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("runs in linear time: a text 10 times longer takes nowhere near 100 times longer", () => {
    const text = (n: number) => `{menu: m\n${Array.from({ length: n }, (_, i) => `${(i % 9) + 1}: call:79990000001 wait=10 err:x${i}`).join("\n")}}`;
    const time = (t: string) => {
      const start = performance.now();
      for (let k = 0; k < 3; k++) parseVoiceMenu(t);
      return performance.now() - start;
    };
    time(text(2000)); // warm up
    const small = time(text(2000));
    const large = time(text(20_000));
    expect(large / Math.max(small, 1)).toBeLessThan(40);
  });
});

describe("menuPathVisits: an event's menu path, however it is written", () => {
  it.each([
    ["12", ["1", "12"]],
    ["1-2", ["1", "12"]],
    ["1.2", ["1", "12"]],
    ["1,2", ["1", "12"]],
    ["1 > 2", ["1", "12"]],
    ["1/2/3", ["1", "12", "123"]],
    ["12*3", ["1", "12", "1", "13"]],
    ["12#2", ["1", "12", "", "2"]],
    ["10", ["1", "1"]],
    ["", [""]],
    [null, [""]],
  ] as const)("%j visits %j", (raw, visits) => {
    expect(menuPathVisits(raw)).toEqual(visits);
  });

  it.each(["item1", "1a", "-", "один"])("%j is not a path", (raw) => {
    expect(menuPathVisits(raw)).toBeNull();
  });
});

describe("computeFunnel", () => {
  const menu = menuOf("{menu: m\n1: a\n11: b\n12: c\n2: d}");
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));
  const call = (...events: [string | null, number, number?][]): FunnelCall => ({
    events: events.map(([menuPath, s, seconds]) => ({ menuPath, eventAt: at(s), seconds: seconds ?? null })),
  });

  it("counts reach, shares, next keys, ends and times; puts calls that do not fit apart", () => {
    const funnel = computeFunnel(menu, [
      call(["1", 0], ["12", 10]), // ends at 12 after 10 s
      call(["1-1", 0, 7]), // ends at 11, 7 s (its seconds)
      call(["1", 0], ["1", 20]), // ends at 1 after 20 s
      call(["2", 5]), // ends at 2, 0 s
      call(["3", 0]), // 3 is not in the menu: unmatched
      call(), // no events
    ]);
    expect(funnel).toMatchObject({ calls: 6, callsWithEvents: 5, unmatchedCalls: 1 });
    const byPath = Object.fromEntries(funnel.nodes.map((n) => [n.path, n]));
    expect(byPath[""]).toEqual({ path: "", reached: 4, shareOfParent: null, nextKeys: { "1": 3, "2": 1 }, endedHere: 0, timeInMenuS: { median: null, p90: null } });
    expect(byPath["1"]).toEqual({ path: "1", reached: 3, shareOfParent: 0.75, nextKeys: { "1": 1, "2": 1 }, endedHere: 1, timeInMenuS: { median: 20, p90: 20 } });
    expect(byPath["11"]).toMatchObject({ reached: 1, shareOfParent: 0.3333, nextKeys: {}, endedHere: 1, timeInMenuS: { median: 7, p90: 7 } });
    expect(byPath["12"]).toMatchObject({ reached: 1, shareOfParent: 0.3333, endedHere: 1, timeInMenuS: { median: 10, p90: 10 } });
    expect(byPath["2"]).toMatchObject({ reached: 1, shareOfParent: 0.25, endedHere: 1, timeInMenuS: { median: 0, p90: 0 } });
  });

  it("share_of_parent is null when the parent was not reached", () => {
    const funnel = computeFunnel(menu, []);
    expect(funnel.nodes.map((n) => n.shareOfParent)).toEqual([null, null, null, null, null]);
    expect(funnel.nodes.every((n) => n.reached === 0 && n.endedHere === 0)).toBe(true);
  });

  it("quantile interpolates between closest ranks", () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([4], 0.9)).toBe(4);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20, 30, 40, 50], 0.9)).toBe(46);
  });
});
