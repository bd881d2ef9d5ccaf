// Voice menus: SMSC's `{menu: ...}` macro (smsc-protocol.md section 9; SMSC's page in seeds/003) parsed into a tree
// and validated, and the funnel of calls through a menu. Pure: no clock, no I/O; never throws; the parser runs in
// time linear in the text (only the list of errors, if any, is sorted).
//
// The message:   START TEXT {menu: MENU TEXT
//                KEY: ACTION            one entry a line; blank lines are ignored
//                ...}  END TEXT
// - The menu text is the rest of the `{menu:` line, plus any following lines before the first entry.
// - An entry is `KEY: ACTION`: the key is one word (no spaces) before the first colon, the action is the rest of the
//   line (trimmed; `}` closes the menu, so the last entry may end on it).
// - Keys: `1`-`9` items; `12` sub-item 2 of item 1, to any depth (every digit 1-9); `*`, `#`, `0` the special keys
//   (`*: back`, `#: start`, `0: repeat`); any other word of Latin letters and digits that starts with a letter is a
//   label (`err`, `callerr`), a step that `err:` (and `ok:`) can jump to. Label names are case-sensitive.
// - The same key on consecutive lines runs several actions on one keypress, in order (an action list); SMSC's page
//   says repeats go "one after another", so the same key again after another key is an error.
// - Actions: `url` (or `url:https://...`), `call:phone[,phone...] [wait=n] [ok:end] [err:label] [record]`,
//   `sms:phone,sender,text` (`$phone` allowed, kept as written), `record` / `record: n`, `end`, `back`, `start`,
//   `repeat` (command words are lowercase, as SMSC writes them); anything else is text the subscriber hears (`say`).
//   `err:` (and `ok:`, whose documented value is `end`) name a label, a step (an item path such as `6`), or `end`.
//
// Error codes (each with the 1-based line and column, in characters, where it was found):
//   no_menu                there is no `{menu:` macro
//   multiple_menus         a second `{menu:` macro
//   unbalanced_braces      a `{` never closed, or a `}` never opened
//   message_too_long       the whole message is over 1000 characters (at the 1001st)
//   no_items               the menu has no item 1-9
//   bad_line               a line in the menu after the first entry that is not `KEY: ACTION`
//   bad_key                a key that is no item, special key or label (`**:`, `пункт:`)
//   key_out_of_range       an item key with a 0 or a non-digit in it (`10:`, `1a:`): items and sub-items are 1-9
//   bad_label              a label that is not Latin letters and digits, or is a command word (`record:`)
//   empty_item             an entry with nothing after its colon
//   duplicate_key          an item or special key repeated after another key came between
//   duplicate_label        the same for a label
//   orphan_subitem         a sub-item whose parent is missing (`31:` without `3:`)
//   undefined_label        `err:`/`ok:` naming no label and no step
//   bad_call_number        `call:` without a number, an empty one, or one that is not a phone number
//   too_many_call_numbers  more than 9 numbers in one `call:` (at the 10th)
//   wait_out_of_range      `wait=` not a whole number of seconds from 0 to 120
//   bad_call_option        an unknown `call:` option, one given twice, a bare `ok:`/`err:`, or `record` not last
//   bad_sms                `sms:` without phone, sender and text, or with a phone that is neither a number nor $phone
//   bad_record_seconds     `record: n` where n is not a whole number from 1 to 3600
//   bad_url                `url:` followed by something that is not an http(s) address
//
// Message length and columns count Unicode characters (code points); a CR LF pair is one line break.

export const MENU_MAX_CHARS = 1000;
export const CALL_MAX_NUMBERS = 9;
export const CALL_WAIT_MAX_S = 120;
/** Our bound for `record: n` (SMSC publishes none; its default is 30 s). */
export const RECORD_MAX_S = 3600;

export const MENU_ERROR_CODES = [
  "no_menu",
  "multiple_menus",
  "unbalanced_braces",
  "message_too_long",
  "no_items",
  "bad_line",
  "bad_key",
  "key_out_of_range",
  "bad_label",
  "empty_item",
  "duplicate_key",
  "duplicate_label",
  "orphan_subitem",
  "undefined_label",
  "bad_call_number",
  "too_many_call_numbers",
  "wait_out_of_range",
  "bad_call_option",
  "bad_sms",
  "bad_record_seconds",
  "bad_url",
] as const;
export type MenuErrorCode = (typeof MENU_ERROR_CODES)[number];

export type MenuError = { code: MenuErrorCode; line: number; column: number; message: string };

export const SPECIAL_KEYS = ["*", "#", "0"] as const;
export type SpecialKey = (typeof SPECIAL_KEYS)[number];

export type MenuAction =
  | { type: "say"; text: string }
  /** `url`: SMSC reports the current item and time in the menu; `address` when written as `url:https://...`. */
  | { type: "url"; address: string | null }
  /** `wait` null: not given (SMSC waits 120 s); `ok`/`err`: a label, a step (item path) or `end`. */
  | { type: "call"; phones: string[]; wait: number | null; ok: string | null; err: string | null; record: boolean }
  | { type: "sms"; phone: string; sender: string; text: string }
  /** `seconds` null: bare `record` (SMSC records up to 30 s). */
  | { type: "record"; seconds: number | null }
  | { type: "end" }
  | { type: "back" }
  | { type: "start" }
  | { type: "repeat" };

/** An item: `key` is its own digit, `path` the keys from the top (`12` is sub-item 2 of item 1). */
export type MenuItem = { key: string; path: string; actions: MenuAction[]; items: MenuItem[] };

export type VoiceMenu = {
  startText: string;
  menuText: string;
  endText: string;
  /** Items 1-9 in key order, each with its sub-items in key order. */
  items: MenuItem[];
  /** The special keys the menu declares, in the order `*`, `#`, `0`. */
  specialKeys: { key: SpecialKey; actions: MenuAction[] }[];
  /** Labels in the order they first appear. */
  labels: { name: string; actions: MenuAction[] }[];
};

export type MenuParseResult = { ok: true; menu: VoiceMenu } | { ok: false; errors: MenuError[] };

const COMMAND_WORDS = new Set(["url", "call", "sms", "record", "end", "back", "start", "repeat"]);
const SIMPLE_COMMANDS = new Set(["end", "back", "start", "repeat"] as const);
const isSimpleCommand = (v: string): v is "end" | "back" | "start" | "repeat" => SIMPLE_COMMANDS.has(v as "end");

/** Line and column (1-based, in code points) of UTF-16 offsets in one text; built in one pass. */
class Positions {
  private readonly cp: Uint32Array;
  private readonly lineStarts: number[] = [0];
  readonly chars: number;
  /** The offset of the first character past MENU_MAX_CHARS, or -1. */
  readonly overflowAt: number;

  constructor(private readonly text: string) {
    const n = text.length;
    this.cp = new Uint32Array(n + 1);
    let count = 0;
    let overflowAt = -1;
    for (let i = 0; i < n; i++) {
      this.cp[i] = count;
      const c = text.charCodeAt(i);
      const continuation = c >= 0xdc00 && c <= 0xdfff && i > 0 && isHigh(text.charCodeAt(i - 1));
      if (!continuation) {
        if (count === MENU_MAX_CHARS && overflowAt < 0) overflowAt = i;
        count++;
      }
      if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) this.lineStarts.push(i + 1);
    }
    this.cp[n] = count;
    this.chars = count;
    this.overflowAt = overflowAt;
  }

  at(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: this.cp[offset]! - this.cp[this.lineStarts[lo]!]! + 1 };
  }
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;

type Group = { actions: MenuAction[]; at: number };
type Target = { name: string; at: number; option: "ok" | "err" };

/** Collects errors at text offsets while the menu is read. */
class Reader {
  readonly found: { at: number; code: MenuErrorCode; message: string }[] = [];
  readonly targets: Target[] = [];
  constructor(readonly text: string) {}
  error(at: number, code: MenuErrorCode, message: string): void {
    this.found.push({ at, code, message });
  }
}

/** Parses and validates a voice message's text. Returns the menu tree, or every problem found. */
export function parseVoiceMenu(text: string): MenuParseResult {
  const r = new Reader(text);
  const pos = new Positions(text);
  if (pos.overflowAt >= 0) {
    r.error(pos.overflowAt, "message_too_long", `the message is ${pos.chars} characters; SMSC allows ${MENU_MAX_CHARS} for a voice message with a menu`);
  }

  // Braces: a stack of open offsets; `close[open]` is where each closes.
  const close = new Map<number, number>();
  const open: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123) open.push(i);
    else if (c === 125) {
      const o = open.pop();
      if (o === undefined) r.error(i, "unbalanced_braces", "this `}` closes no `{`");
      else close.set(o, i);
    }
  }
  for (const o of open) r.error(o, "unbalanced_braces", isMenuAt(text, o) ? "the `{menu:` macro is never closed with `}`" : "this `{` is never closed");

  const macros = [...text.matchAll(/\{\s*menu\s*:/gi)];
  const first = macros[0];
  for (const m of macros.slice(1)) r.error(m.index, "multiple_menus", "a message can hold one `{menu: ...}` macro");
  if (!first) {
    r.error(0, "no_menu", "no `{menu: ...}` macro: a voice menu needs one");
    return finish(r, pos, null);
  }
  const macroAt = first.index;
  const bodyStart = macroAt + first[0].length;
  const closeAt = close.get(macroAt);
  const bodyEnd = closeAt ?? text.length;

  const body = readMenuBody(r, bodyStart, bodyEnd, macroAt);
  return finish(r, pos, () => ({
    startText: text.slice(0, macroAt).trim(),
    menuText: body.menuText,
    endText: closeAt === undefined ? "" : text.slice(closeAt + 1).trim(),
    ...body.tree(),
  }));
}

function isMenuAt(text: string, at: number): boolean {
  return /^\{\s*menu\s*:/i.test(text.slice(at, at + 32));
}

/** The menu text, and the tree (built only when the menu turns out valid). */
type MenuBody = { menuText: string; tree: () => Pick<VoiceMenu, "items" | "specialKeys" | "labels"> };

function readMenuBody(r: Reader, start: number, end: number, macroAt: number): MenuBody {
  const text = r.text;
  const items = new Map<string, Group>();
  const specials = new Map<string, Group>();
  const labels = new Map<string, Group>();
  const menuTextLines: string[] = [];
  let seenEntry = false;
  let itemKeys = 0;
  let previous: string | null = null;
  let lineNo = 0;

  let s = start;
  while (s <= end) {
    let e = s;
    while (e < end && text.charCodeAt(e) !== 10 && text.charCodeAt(e) !== 13) e++;
    const next = e < end ? (text.charCodeAt(e) === 13 && text.charCodeAt(e + 1) === 10 && e + 1 < end ? e + 2 : e + 1) : end + 1;
    const line = text.slice(s, e);
    const first = lineNo++ === 0;
    if (first) menuTextLines.push(line.trim());
    else if (line.trim() !== "") {
      const m = /^([ \t]*)([^\s:]+)[ \t]*:/.exec(line);
      if (!m) {
        if (seenEntry) {
          r.error(s + leading(line), "bad_line", "expected `KEY: ACTION` (an item 1-9, `*`, `#`, `0` or a label); a text cannot go on to the next line");
          previous = null;
        } else menuTextLines.push(line.trim());
      } else {
        seenEntry = true;
        const token = m[2]!;
        const keyAt = s + m[1]!.length;
        const rawValue = line.slice(m[0].length);
        const value = rawValue.trim();
        const valueAt = s + m[0].length + leading(rawValue);
        const kind = classifyKey(token);
        if (kind.kind === "item" || (kind.kind === "error" && kind.code === "key_out_of_range")) itemKeys++;
        let actions: MenuAction[] = [];
        if (value === "") r.error(keyAt, "empty_item", `\`${token}:\` has nothing after the colon`);
        else actions = readActions(r, value, valueAt);
        if (kind.kind === "error") {
          r.error(keyAt, kind.code, kind.message);
          previous = null;
        } else {
          const id = `${kind.kind}:${token}`;
          const map: Map<string, Group> = kind.kind === "item" ? items : kind.kind === "label" ? labels : specials;
          const group = map.get(token);
          if (!group) map.set(token, { actions, at: keyAt });
          else {
            if (previous !== id) {
              const what = kind.kind === "label" ? `label \`${token}\`` : `key \`${token}\``;
              r.error(keyAt, kind.kind === "label" ? "duplicate_label" : "duplicate_key", `${what} was already given at an earlier line; repeat a key only on consecutive lines`);
            }
            group.actions.push(...actions);
          }
          previous = id;
        }
      }
    }
    s = next;
  }

  if (itemKeys === 0) r.error(macroAt, "no_items", "the menu has no items: add at least `1: ...`");
  for (const [path, group] of items) {
    const parent = path.slice(0, -1);
    if (parent !== "" && !items.has(parent)) {
      r.error(group.at, "orphan_subitem", `sub-item \`${path}\` needs item \`${parent}\`, which the menu does not have`);
    }
  }
  const names = [...labels.keys()];
  const known = names.length === 0 ? " (the menu has no labels)" : ` (labels: ${names.slice(0, 10).join(", ")}${names.length > 10 ? ", ..." : ""})`;
  for (const t of r.targets) {
    const found = t.name === "end" || (/^[1-9]+$/.test(t.name) ? items.has(t.name) : labels.has(t.name));
    if (!found) r.error(t.at, "undefined_label", `\`${t.option}:${t.name}\` names no label and no item${known}`);
  }

  return {
    menuText: menuTextLines.filter((l) => l !== "").join("\n"),
    tree: () => {
      // Each node gets its children from nine slots, so no sorting and no recursion.
      const nodes = new Map<string, { item: MenuItem; slots: (MenuItem | undefined)[] }>();
      for (const [path, g] of items) nodes.set(path, { item: { key: path.slice(-1), path, actions: g.actions, items: [] }, slots: [] });
      const top: (MenuItem | undefined)[] = [];
      for (const [path, n] of nodes) {
        const slot = Number(path.slice(-1)) - 1;
        if (path.length === 1) top[slot] = n.item;
        else nodes.get(path.slice(0, -1))!.slots[slot] = n.item;
      }
      for (const n of nodes.values()) n.item.items = n.slots.filter((x): x is MenuItem => x !== undefined);
      return {
        items: top.filter((x): x is MenuItem => x !== undefined),
        specialKeys: SPECIAL_KEYS.flatMap((key) => {
          const g = specials.get(key);
          return g ? [{ key, actions: g.actions }] : [];
        }),
        labels: [...labels].map(([name, g]) => ({ name, actions: g.actions })),
      };
    },
  };
}

function finish(r: Reader, pos: Positions, menu: (() => VoiceMenu) | null): MenuParseResult {
  if (r.found.length > 0 || menu === null) {
    const errors = r.found
      .sort((a, b) => a.at - b.at || a.code.localeCompare(b.code))
      .map((e) => ({ code: e.code, ...pos.at(e.at), message: e.message }));
    return { ok: false, errors };
  }
  return { ok: true, menu: menu() };
}

const leading = (s: string): number => s.length - s.trimStart().length;

type KeyKind =
  | { kind: "item" }
  | { kind: "special" }
  | { kind: "label" }
  | { kind: "error"; code: "bad_key" | "key_out_of_range" | "bad_label"; message: string };

function classifyKey(token: string): KeyKind {
  if (token === "*" || token === "#" || token === "0") return { kind: "special" };
  if (/^[1-9]+$/.test(token)) return { kind: "item" };
  if (/^[0-9]/.test(token)) {
    return { kind: "error", code: "key_out_of_range", message: `\`${token}\` is not an item key: items and sub-items are the digits 1-9 (\`12\` is sub-item 2 of item 1)` };
  }
  if (/^[A-Za-z][A-Za-z0-9]*$/.test(token)) {
    if (COMMAND_WORDS.has(token)) {
      return { kind: "error", code: "bad_label", message: `\`${token}\` is a command, not a label: put it in an item (\`1: ${token}...\`)` };
    }
    return { kind: "label" };
  }
  if (/^[A-Za-z]/.test(token)) return { kind: "error", code: "bad_label", message: `label \`${token}\`: a label is Latin letters and digits` };
  return { kind: "error", code: "bad_key", message: `\`${token}\` is not a key: use an item 1-9, \`*\`, \`#\`, \`0\` or a label of Latin letters and digits` };
}

/** One entry's action (an entry holds one action; repeated keys make the list). */
function readActions(r: Reader, value: string, at: number): MenuAction[] {
  if (isSimpleCommand(value)) return [{ type: value }];
  if (value === "url") return [{ type: "url", address: null }];
  const url = /^url\s*:\s*/.exec(value);
  if (url) {
    const address = value.slice(url[0].length);
    if (!/^https?:\/\/\S+$/i.test(address)) r.error(at + url[0].length, "bad_url", "`url:` takes an http(s) address (or write `url` alone for the account's handler)");
    return [{ type: "url", address }];
  }
  if (value === "call" || /^call\s*:/.test(value)) return [readCall(r, value, at)];
  if (value === "sms" || /^sms\s*:/.test(value)) return [readSms(r, value, at)];
  if (value === "record") return [{ type: "record", seconds: null }];
  const rec = /^record\s*:\s*/.exec(value);
  if (rec) {
    const n = value.slice(rec[0].length);
    const ok = /^\d{1,6}$/.test(n) && Number(n) >= 1 && Number(n) <= RECORD_MAX_S;
    if (!ok) r.error(at + rec[0].length, "bad_record_seconds", `\`record: n\` takes a whole number of seconds from 1 to ${RECORD_MAX_S}${n === "" ? "" : `, not \`${n}\``}`);
    return [{ type: "record", seconds: ok ? Number(n) : null }];
  }
  return [{ type: "say", text: value }];
}

/** A phone number as SMSC takes it: digits (5-15), optionally after `+`, with `-`, `(`, `)` or spaces between. */
const isPhone = (s: string): boolean => /^\+?[0-9()\- ]+$/.test(s) && /^\+?[0-9]/.test(s) && inRange(s.replace(/\D/g, "").length, 5, 15);
const inRange = (n: number, lo: number, hi: number) => n >= lo && n <= hi;
const isCallOption = (token: string) => /^(wait|ok|err|record)(?=$|[=:])/.test(token);

function readCall(r: Reader, value: string, at: number): MenuAction {
  const colon = value.indexOf(":");
  const call: Extract<MenuAction, { type: "call" }> = { type: "call", phones: [], wait: null, ok: null, err: null, record: false };
  if (colon < 0) {
    r.error(at, "bad_call_number", "`call:` needs a phone number: `call:79991234567`");
    return call;
  }
  const rest = value.slice(colon + 1);
  const restAt = at + colon + 1;
  const tokens = [...rest.matchAll(/\S+/g)].map((m) => ({ t: m[0], i: m.index }));
  let firstOption = tokens.findIndex((x) => isCallOption(x.t));
  if (firstOption < 0) firstOption = tokens.length;
  const phonesText = rest.slice(0, firstOption < tokens.length ? tokens[firstOption]!.i : rest.length);

  if (phonesText.trim() === "") r.error(restAt, "bad_call_number", "`call:` needs a phone number: `call:79991234567`");
  else {
    let offset = 0;
    let count = 0;
    for (const piece of phonesText.split(",")) {
      const phone = piece.trim();
      const phoneAt = restAt + offset + leading(piece);
      offset += piece.length + 1;
      if (phone === "") {
        r.error(phoneAt, "bad_call_number", "an empty number in the list (two commas, or a comma at an end)");
        continue;
      }
      count++;
      if (count === CALL_MAX_NUMBERS + 1) r.error(phoneAt, "too_many_call_numbers", `\`call:\` takes at most ${CALL_MAX_NUMBERS} numbers`);
      if (!isPhone(phone)) r.error(phoneAt, "bad_call_number", `\`${phone}\` is not a phone number${/\d\s+\d/.test(phone) && phone.replace(/\D/g, "").length > 15 ? " (separate numbers with commas)" : ""}`);
      call.phones.push(phone);
    }
  }

  const seen = new Set<string>();
  for (let k = firstOption; k < tokens.length; k++) {
    const { t, i } = tokens[k]!;
    const tokenAt = restAt + i;
    const name = /^[a-z]+/.exec(t)?.[0] ?? "";
    if (isCallOption(t) && seen.has(name)) r.error(tokenAt, "bad_call_option", `\`${name}\` is given twice`);
    if (isCallOption(t)) seen.add(name);
    if (/^wait=/.test(t)) {
      const n = t.slice(5);
      if (/^\d{1,6}$/.test(n) && Number(n) <= CALL_WAIT_MAX_S) call.wait = Number(n);
      else r.error(tokenAt + 5, "wait_out_of_range", `\`wait=\` takes a whole number of seconds from 0 to ${CALL_WAIT_MAX_S}${n === "" ? "" : `, not \`${n}\``}`);
    } else if (/^(ok|err):/.test(t)) {
      const option = name as "ok" | "err";
      let target = t.slice(option.length + 1);
      let targetAt = tokenAt + option.length + 1;
      const following = tokens[k + 1];
      if (target === "" && following && !isCallOption(following.t)) {
        target = following.t;
        targetAt = restAt + following.i;
        k++;
      }
      if (target === "") r.error(tokenAt, "bad_call_option", `\`${option}:\` needs ${option === "ok" ? "`end`" : "a label or an item"}: \`${option}:${option === "ok" ? "end" : "callerr"}\``);
      else {
        call[option] = target;
        r.targets.push({ name: target, at: targetAt, option });
      }
    } else if (/^record$/.test(t)) {
      call.record = true;
      if (k < tokens.length - 1) r.error(tokenAt, "bad_call_option", "`record` must be the last option of `call:`");
    } else {
      r.error(tokenAt, "bad_call_option", `\`${t}\` is not a \`call:\` option (wait=n, ok:end, err:label, record)`);
    }
  }
  return call;
}

function readSms(r: Reader, value: string, at: number): MenuAction {
  const colon = value.indexOf(":");
  const rest = colon < 0 ? "" : value.slice(colon + 1);
  const restAt = at + (colon < 0 ? value.length : colon + 1);
  const c1 = rest.indexOf(",");
  const c2 = c1 < 0 ? -1 : rest.indexOf(",", c1 + 1);
  if (c2 < 0) {
    r.error(colon < 0 ? at : restAt, "bad_sms", "`sms:` needs a phone, a sender and a text: `sms:$phone,Sender,text`");
    return { type: "sms", phone: rest.trim(), sender: "", text: "" };
  }
  const part = (from: number, to: number) => {
    const raw = rest.slice(from, to);
    return { v: raw.trim(), at: restAt + from + leading(raw) };
  };
  const phone = part(0, c1);
  const sender = part(c1 + 1, c2);
  const body = part(c2 + 1, rest.length);
  if (phone.v !== "$phone" && !isPhone(phone.v)) r.error(phone.at, "bad_sms", `\`${phone.v}\` is neither a phone number nor \`$phone\``);
  if (sender.v === "") r.error(sender.at, "bad_sms", "`sms:` needs a sender name between the commas");
  if (body.v === "") r.error(body.at, "bad_sms", "`sms:` needs a text after the sender");
  return { type: "sms", phone: phone.v, sender: sender.v, text: body.v };
}

// ---------------------------------------------------------------------------------------------------------------
// Funnels: how calls moved through a menu, from the IVR events of each call.

/** Every node of a menu: the root (`""`), then each item and sub-item, depth first in key order. */
export function menuNodes(menu: Pick<VoiceMenu, "items">): { path: string; children: string[] }[] {
  const out: { path: string; children: string[] }[] = [{ path: "", children: menu.items.map((i) => i.key) }];
  const stack = [...menu.items].reverse();
  while (stack.length > 0) {
    const item = stack.pop()!;
    out.push({ path: item.path, children: item.items.map((i) => i.key) });
    for (let k = item.items.length - 1; k >= 0; k--) stack.push(item.items[k]!);
  }
  return out;
}

/**
 * The nodes an event's menu path visits, last the node it reached. The path may be written plainly (`12`), with
 * separators (`1-2`, `1.2`, `1,2`, `1/2`, `1 > 2`), or as the key sequence pressed, where `*` goes back one level,
 * `#` to the top and `0` repeats. No path (null or blank) is the top of the menu. Null: not a path.
 */
export function menuPathVisits(raw: string | null): string[] | null {
  if (raw === null) return [""];
  const keys = raw.replace(/[\s\-.,/>|_]/g, "");
  if (keys === "") return raw.trim() === "" ? [""] : null;
  if (!/^[0-9*#]+$/.test(keys)) return null;
  const visits: string[] = [];
  let path = "";
  for (const k of keys) {
    if (k === "*") path = path.slice(0, -1);
    else if (k === "#") path = "";
    else if (k !== "0") path += k;
    visits.push(path);
  }
  return visits;
}

export type FunnelEvent = { menuPath: string | null; seconds: number | null; eventAt: Date };
/** One call (a message linked to the menu) with its IVR events, oldest first. */
export type FunnelCall = { events: readonly FunnelEvent[] };

export type FunnelNode = {
  path: string;
  reached: number;
  shareOfParent: number | null;
  nextKeys: Record<string, number>;
  endedHere: number;
  timeInMenuS: { median: number | null; p90: number | null };
};

export type Funnel = { calls: number; callsWithEvents: number; unmatchedCalls: number; nodes: FunnelNode[] };

/**
 * The funnel of `calls` through `menu`. A call reached a node when one of its events' paths visits it (or a node
 * below it); it ended at the node its last event reached. A call with an event whose path is not a node of the menu
 * is counted in `unmatchedCalls` and in no node. Time in the menu, per call: the largest `seconds` among its events,
 * else the time from its first event to its last; median and p90 (linear interpolation between closest ranks) over
 * the calls that ended at the node.
 */
export function computeFunnel(menu: Pick<VoiceMenu, "items">, calls: readonly FunnelCall[]): Funnel {
  const nodes = menuNodes(menu);
  const known = new Set(nodes.map((n) => n.path));
  const reached = new Map<string, number>();
  const ended = new Map<string, number[]>();
  let withEvents = 0;
  let unmatched = 0;
  for (const call of calls) {
    if (call.events.length === 0) continue;
    withEvents++;
    const visited = new Set<string>();
    let last = "";
    let fits = true;
    for (const e of call.events) {
      const visits = menuPathVisits(e.menuPath);
      if (visits === null || visits.some((p) => !known.has(p))) {
        fits = false;
        break;
      }
      visited.add("");
      for (const p of visits) visited.add(p);
      last = visits[visits.length - 1]!;
    }
    if (!fits) {
      unmatched++;
      continue;
    }
    for (const p of visited) reached.set(p, (reached.get(p) ?? 0) + 1);
    const seconds = call.events.map((e) => e.seconds).filter((s): s is number => s !== null);
    const time =
      seconds.length > 0
        ? Math.max(...seconds)
        : (call.events[call.events.length - 1]!.eventAt.getTime() - call.events[0]!.eventAt.getTime()) / 1000;
    const list = ended.get(last) ?? [];
    list.push(time);
    ended.set(last, list);
  }
  return {
    calls: calls.length,
    callsWithEvents: withEvents,
    unmatchedCalls: unmatched,
    nodes: nodes.map(({ path, children }) => {
      const here = reached.get(path) ?? 0;
      const parentReached = path === "" ? 0 : (reached.get(path.slice(0, -1)) ?? 0);
      const times = [...(ended.get(path) ?? [])].sort((a, b) => a - b);
      return {
        path,
        reached: here,
        shareOfParent: path === "" || parentReached === 0 ? null : round(here / parentReached, 4),
        nextKeys: Object.fromEntries(children.map((k) => [k, reached.get(path + k) ?? 0])),
        endedHere: times.length,
        timeInMenuS: { median: quantile(times, 0.5), p90: quantile(times, 0.9) },
      };
    }),
  };
}

/** The q-quantile of sorted values, interpolating linearly between closest ranks (rounded to ms); null when empty. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = (sorted.length - 1) * q;
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return round(sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo), 3);
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
