// The callback normaliser: a flat field map, as SMSC sent it, to a typed record of what it means.
// Classification follows the protocol reference, section 11. Pure: the received time and the settings
// come in as arguments. A callback that cannot be used is a value with an `error`, never an exception.
import { TYPE_EMAIL, TYPE_HLR, TYPE_PING, TYPE_CALL } from "./message-types.js";
import type { ParseError } from "./parsed.js";
import { optIntent, type OptIntent } from "./opt-out.js";
import { normalizePhone } from "./phone.js";
import { statFromWord } from "./receipt.js";
import { parseStatusString, type StatusRecord } from "./status-string.js";
import { parseLocalIso, parseSmscTime, parseUnixTime } from "./time.js";

export type Fields = Record<string, string>;

export type CallbackKind = "status" | "hlr" | "ping" | "call" | "incoming" | "waitcall" | "ivr" | "unknown";
export const CALLBACK_KINDS = ["status", "hlr", "ping", "call", "incoming", "waitcall", "ivr", "unknown"] as const;
export const STATUS_KINDS: readonly CallbackKind[] = ["status", "hlr", "ping", "call"];

/** Where a callback came from: the main handler URL, the IVR address, or a bulk import line. */
export type CallbackSource = "main" | "ivr" | "import";

/** What an IVR field can stand for; IVR_FIELD_MAP names other fields for them (SMSC does not publish its names). */
export const IVR_TARGETS = ["id", "phone", "path", "seconds", "time"] as const;
export type IvrTarget = (typeof IVR_TARGETS)[number];

export type NormalizeOptions = {
  timeZone: string;
  defaultCountry: string;
  /** Extra IVR field names: field → what it carries (IVR_FIELD_MAP, e.g. `menu=path,dur=seconds`). */
  ivrFieldMap?: Readonly<Record<string, IvrTarget>>;
  /** OPT_OUT_WORDS and OPT_IN_WORDS: an incoming SMS that is one of them opts its sender out or back in. */
  optOutWords?: readonly string[];
  optInWords?: readonly string[];
};

export type HlrFacts = {
  imsi: string | null;
  msc: string | null;
  mcc: string | null;
  mnc: string | null;
  country: string | null;
  network: string | null;
  roamingCountry: string | null;
  roamingNetwork: string | null;
  roaming: boolean | null;
};

export type StatusUpdate = {
  smscId: string;
  /** Normalised phone digits, or the lower-cased address of an e-mail message. */
  phone: string;
  type: number | null;
  status: number;
  err: number;
  eventAt: Date;
  cost: string | null;
  parts: number | null;
  sender: string | null;
  mcc: string | null;
  mnc: string | null;
  hlr: HlrFacts | null;
};

export type IncomingSms = {
  smscId: string | null;
  phone: string;
  to: string | null;
  text: string;
  eventAt: Date;
  /** The opt-out or opt-in word the whole text is, if any. */
  opt: { intent: OptIntent; word: string } | null;
};
export type WaitcallEvent = { phone: string; eventAt: Date };
export type IvrEvent = { smscId: string | null; phone: string | null; menuPath: string | null; seconds: number | null; eventAt: Date };

export type NormalizedCallback = {
  kind: CallbackKind;
  smscId: string | null;
  /** The phone as stored: E.164 digits when it normalises, else as sent. */
  phone: string | null;
  /** The phone of the `numbers` row this callback informs, when it is a possible phone number. */
  numberPhone: string | null;
  /** The ISO country of `numberPhone`'s range, when the numbering plan knows it. */
  numberCountry: string | null;
  /** Material for the dedupe key (hashed by the writer). */
  dedupe: string;
  /** The string SMSC signs (`id:phone:status` or `phone:ts`), before the secret; null for kinds it does not sign. */
  signatureBase: string | null;
  error: ParseError | null;
  status: StatusUpdate | null;
  incoming: IncomingSms | null;
  waitcall: WaitcallEvent | null;
  ivr: IvrEvent | null;
};

const HLR_FIELDS = ["imsi", "msc", "mcc", "mnc", "cn", "net", "rcn", "rnet"] as const;
const TEXT_FIELDS = ["mes", "message", "text"] as const;
const IVR_FIELDS = ["menu", "menu_path", "path", "item", "key", "keys", "digit", "digits", "button", "buttons", "dtmf"] as const;
const SIGNATURE_FIELDS = new Set(["md5", "sha1", "crc32"]);

/** Reads a field by any of its names; empty strings count as absent. */
function pick(fields: Fields, ...names: string[]): string | null {
  for (const name of names) {
    const v = fields[name];
    if (v !== undefined && v.trim() !== "") return v.trim();
  }
  return null;
}

function has(fields: Fields, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(fields, name);
}

/** An integer within [min, max] (the column's range), else null. */
function parseInteger(value: string | null, min = 0, max = 2_147_483_647): number | null {
  if (value === null || !/^[+-]?\d{1,10}$/.test(value)) return null;
  const n = Number(value);
  return n >= min && n <= max ? n : null;
}

/** SMSC status codes run from -3 to a few hundred; anything past a smallint is not a status. */
const STATUS_RANGE = [-32768, 32767] as const;
const TYPE_RANGE = [0, 32767] as const;

/** Which kind of event the fields describe (protocol reference, section 11). */
export function classifyCallback(fields: Fields, source: CallbackSource, ivrFieldMap: Readonly<Record<string, IvrTarget>> = {}): CallbackKind {
  if (has(fields, "waitcall")) return "waitcall";
  if (source === "import" && has(fields, "receipt")) return receiptKind(fields.receipt ?? "");
  if (has(fields, "status")) {
    const type = parseInteger(pick(fields, "type"), ...TYPE_RANGE);
    if (type === TYPE_HLR || HLR_FIELDS.slice(0, 4).some((f) => pick(fields, f) !== null)) return "hlr";
    if (type === TYPE_PING) return "ping";
    if (type === TYPE_CALL) return "call";
    return "status";
  }
  if (TEXT_FIELDS.some((f) => has(fields, f))) return "incoming";
  if (IVR_FIELDS.some((f) => has(fields, f))) return "ivr";
  if (Object.entries(ivrFieldMap).some(([f, target]) => (target === "path" || target === "seconds") && has(fields, f))) return "ivr";
  if (source === "ivr") return "ivr";
  return "unknown";
}

function receiptKind(line: string): CallbackKind {
  const parsed = parseStatusString(line);
  if (parsed.ok && (parsed.value.imsi !== null || parsed.value.mcc !== null || parsed.value.rcn !== null)) return "hlr";
  return "status";
}

/** The dedupe material of fields that have no natural key: every field, sorted, without signatures. */
function allFieldsMaterial(fields: Fields): string {
  const entries = Object.entries(fields)
    .filter(([k]) => !SIGNATURE_FIELDS.has(k.toLowerCase()))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `fields|${JSON.stringify(entries)}`;
}

function eventTime(fields: Fields, receivedAt: Date, timeZone: string, ...names: string[]): { at: Date; raw: string } {
  for (const name of names) {
    const raw = pick(fields, name);
    if (raw === null) continue;
    const at = name === "ts" ? parseUnixTime(raw) : (parseSmscTime(raw, timeZone) ?? parseUnixTime(raw));
    if (at) return { at, raw };
  }
  return { at: receivedAt, raw: "" };
}

function splitMccMnc(value: string | null): { mcc: string | null; mnc: string | null } {
  if (value === null || !/^\d{5,6}$/.test(value)) return { mcc: null, mnc: null };
  return { mcc: value.slice(0, 3), mnc: value.slice(3) };
}

function hlrFacts(get: (name: (typeof HLR_FIELDS)[number]) => string | null, present: (name: string) => boolean): HlrFacts {
  const rcn = get("rcn");
  const rnet = get("rnet");
  const roaming = present("rcn") || present("rnet") ? rcn !== null || rnet !== null : null;
  return {
    imsi: get("imsi"),
    msc: get("msc"),
    mcc: get("mcc"),
    mnc: get("mnc"),
    country: get("cn"),
    network: get("net"),
    roamingCountry: rcn,
    roamingNetwork: rnet,
    roaming,
  };
}

type PhoneResult = { phone: string; numberPhone: string | null; numberCountry: string | null } | { error: ParseError };

function readPhone(raw: string | null, type: number | null, defaultCountry: string): PhoneResult {
  if (raw === null) return { error: { code: "missing_phone", message: "the callback has no phone" } };
  if (type === TYPE_EMAIL || raw.includes("@")) return { phone: raw.toLowerCase(), numberPhone: null, numberCountry: null };
  const n = normalizePhone(raw, defaultCountry);
  if (!n.ok) return { error: { code: "bad_phone", message: n.error.message } };
  return { phone: n.value.phone, numberPhone: n.value.phone, numberCountry: n.value.country };
}

function empty(kind: CallbackKind, fields: Fields): NormalizedCallback {
  return {
    kind,
    smscId: pick(fields, "id"),
    phone: pick(fields, "phone"),
    numberPhone: null,
    numberCountry: null,
    dedupe: allFieldsMaterial(fields),
    signatureBase: null,
    error: null,
    status: null,
    incoming: null,
    waitcall: null,
    ivr: null,
  };
}

/** An unusable callback: kept raw, keyed by all its fields. */
function withError(base: NormalizedCallback, error: ParseError): NormalizedCallback {
  return { ...base, error, status: null, incoming: null, waitcall: null, ivr: null };
}

export function normalizeCallback(
  fields: Fields,
  source: CallbackSource,
  receivedAt: Date,
  options: NormalizeOptions,
): NormalizedCallback {
  const kind = classifyCallback(fields, source, options.ivrFieldMap);
  const base = empty(kind, fields);
  switch (kind) {
    case "status":
    case "hlr":
    case "ping":
    case "call":
      return source === "import" && has(fields, "receipt")
        ? normalizeReceipt(base, fields, receivedAt, options)
        : normalizeStatus(base, fields, receivedAt, options);
    case "incoming":
      return normalizeIncoming(base, fields, receivedAt, options);
    case "waitcall":
      return normalizeWaitcall(base, fields, receivedAt, options);
    case "ivr":
      return normalizeIvr(base, fields, receivedAt, options);
    case "unknown":
      return { ...base, error: { code: "unclassified", message: "no status, text, wait-call or menu field: kept raw for a later replay" } };
  }
}

function normalizeStatus(base: NormalizedCallback, fields: Fields, receivedAt: Date, options: NormalizeOptions): NormalizedCallback {
  const smscId = pick(fields, "id");
  const rawStatus = pick(fields, "status");
  const rawPhone = pick(fields, "phone");
  const signatureBase = `${fields.id ?? ""}:${fields.phone ?? ""}:${fields.status ?? ""}`;
  const signed = { ...base, signatureBase };
  if (smscId === null) return withError(signed, { code: "missing_id", message: "a status callback needs an id" });
  const status = parseInteger(rawStatus, ...STATUS_RANGE);
  if (status === null) return withError(signed, { code: "bad_status", message: `status must be an integer from -32768 to 32767, not "${rawStatus ?? ""}"` });
  const rawErr = pick(fields, "err");
  const err = rawErr === null ? 0 : parseInteger(rawErr);
  if (err === null) return withError(signed, { code: "bad_err", message: `err must be an integer, not "${rawErr}"` });
  const rawType = pick(fields, "type");
  const type = parseInteger(rawType, ...TYPE_RANGE);
  if (rawType !== null && type === null) return withError(signed, { code: "bad_type", message: `type must be an integer from 0 to 32767, not "${rawType}"` });
  const phone = readPhone(rawPhone, type, options.defaultCountry);
  if ("error" in phone) return withError(signed, phone.error);
  const time = eventTime(fields, receivedAt, options.timeZone, "ts", "time");
  const mccmnc = splitMccMnc(pick(fields, "mccmnc"));
  const isHlr = base.kind === "hlr";
  const cost = pick(fields, "cost");
  return {
    ...signed,
    smscId,
    phone: phone.phone,
    numberPhone: phone.numberPhone,
    numberCountry: phone.numberCountry,
    dedupe: `status|${smscId}|${phone.phone}|${status}|${err}|${time.raw}`,
    status: {
      smscId,
      phone: phone.phone,
      type: type ?? (isHlr ? TYPE_HLR : null),
      status,
      err,
      eventAt: time.at,
      cost: cost !== null && /^-?\d{1,10}(\.\d{1,4})?$/.test(cost) ? cost : null,
      parts: parseInteger(pick(fields, "sms_cnt", "cnt"), 0, 32767),
      sender: pick(fields, "sender_id", "sender"),
      mcc: pick(fields, "mcc") ?? mccmnc.mcc,
      mnc: pick(fields, "mnc") ?? mccmnc.mnc,
      hlr: isHlr ? hlrFacts((name) => pick(fields, name), (name) => has(fields, name)) : null,
    },
  };
}

/** A bulk-import line: `{phone?, receipt}`, the receipt being an SMPP receipt or SMSC's HLR string. */
function normalizeReceipt(base: NormalizedCallback, fields: Fields, receivedAt: Date, options: NormalizeOptions): NormalizedCallback {
  const parsed = parseStatusString(fields.receipt ?? "");
  if (!parsed.ok) return withError(base, parsed.error);
  const r: StatusRecord = parsed.value;
  const status = statFromWord(r.stat ?? "");
  if (status === null) return withError(base, { code: "unknown_stat", message: `stat "${r.stat}" maps to no SMSC status` });
  const err = r.err === null ? 0 : parseInteger(r.err);
  if (err === null) return withError(base, { code: "bad_err", message: `err must be an integer, not "${r.err}"` });
  const phone = readPhone(pick(fields, "phone"), null, options.defaultCountry);
  if ("error" in phone) return withError(base, phone.error);
  const dateRaw = r.doneDate ?? r.submitDate;
  const eventAt = (dateRaw !== null ? parseLocalIso(dateRaw, options.timeZone) : null) ?? receivedAt;
  const isHlr = base.kind === "hlr";
  return {
    ...base,
    smscId: r.id,
    phone: phone.phone,
    numberPhone: phone.numberPhone,
    numberCountry: phone.numberCountry,
    dedupe: `status|${r.id}|${phone.phone}|${status}|${err}|${dateRaw ?? ""}`,
    status: {
      smscId: r.id!,
      phone: phone.phone,
      type: isHlr ? TYPE_HLR : null,
      status,
      err,
      eventAt,
      cost: null,
      parts: null,
      sender: null,
      mcc: r.mcc,
      mnc: r.mnc,
      hlr: isHlr
        ? hlrFacts(
            (name) => (r[name] === null || r[name] === "" ? null : r[name]),
            (name) => r[name as keyof StatusRecord] !== null,
          )
        : null,
    },
  };
}

function normalizeIncoming(base: NormalizedCallback, fields: Fields, receivedAt: Date, options: NormalizeOptions): NormalizedCallback {
  const smscId = pick(fields, "id", "sms_id");
  const from = pick(fields, "phone", "from");
  const to = pick(fields, "to", "to_phone");
  const text = fields.mes ?? fields.message ?? fields.text ?? "";
  const time = eventTime(fields, receivedAt, options.timeZone, "ts", "sent", "time");
  const phone = readPhone(from, null, options.defaultCountry);
  if ("error" in phone) return withError(base, phone.error);
  return {
    ...base,
    smscId,
    phone: phone.phone,
    numberPhone: phone.numberPhone,
    numberCountry: phone.numberCountry,
    dedupe: smscId !== null ? `incoming|${smscId}` : `incoming|${phone.phone}|${to ?? ""}|${text}|${time.raw}`,
    incoming: {
      smscId,
      phone: phone.phone,
      to,
      text,
      eventAt: time.at,
      opt: optIntent(text, { optOutWords: options.optOutWords ?? [], optInWords: options.optInWords ?? [] }),
    },
  };
}

function normalizeWaitcall(base: NormalizedCallback, fields: Fields, receivedAt: Date, options: NormalizeOptions): NormalizedCallback {
  const signed = { ...base, signatureBase: `${fields.phone ?? ""}:${fields.ts ?? ""}` };
  const phone = readPhone(pick(fields, "phone"), null, options.defaultCountry);
  if ("error" in phone) return withError(signed, phone.error);
  const time = eventTime(fields, receivedAt, options.timeZone, "ts", "time");
  return {
    ...signed,
    phone: phone.phone,
    numberPhone: phone.numberPhone,
    numberCountry: phone.numberCountry,
    dedupe: `waitcall|${phone.phone}|${time.raw}`,
    waitcall: { phone: phone.phone, eventAt: time.at },
  };
}

function normalizeIvr(base: NormalizedCallback, fields: Fields, receivedAt: Date, options: NormalizeOptions): NormalizedCallback {
  // The operator's IVR_FIELD_MAP names come first, then the names we guess.
  const mapped = (target: IvrTarget) => Object.entries(options.ivrFieldMap ?? {}).filter(([, t]) => t === target).map(([f]) => f);
  const rawPhone = pick(fields, ...mapped("phone"), "phone");
  const phone = rawPhone === null ? null : readPhone(rawPhone, null, options.defaultCountry);
  const time = eventTime(fields, receivedAt, options.timeZone, ...mapped("time"), "ts", "time");
  const normalized = phone !== null && !("error" in phone) ? phone : null;
  return {
    ...base,
    smscId: pick(fields, ...mapped("id"), "id"),
    phone: normalized?.phone ?? rawPhone,
    numberPhone: normalized?.numberPhone ?? null,
    numberCountry: normalized?.numberCountry ?? null,
    ivr: {
      smscId: pick(fields, ...mapped("id"), "id"),
      phone: normalized?.phone ?? rawPhone,
      menuPath: pick(fields, ...mapped("path"), ...IVR_FIELDS),
      seconds: parseInteger(pick(fields, ...mapped("seconds"), "duration", "dur", "seconds")),
      eventAt: time.at,
    },
  };
}
