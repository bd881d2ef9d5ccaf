// The database schema. drizzle-kit generates the SQL migrations in migrations/ from this file.
// Phones are E.164 digits without '+'; mcc, mnc, imsi and msc are strings (leading zeros matter).
// Every unique key on a large table includes the phone, so the tables can later be distributed by phone.
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const bytea = customType<{ data: Uint8Array }>({ dataType: () => "bytea" });
const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** One row per received request, as received. */
export const callbacks = pgTable(
  "callbacks",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    account: text("account").notNull(),
    kind: text("kind").notNull(),
    method: text("method").notNull(),
    route: text("route").notNull(),
    contentType: text("content_type"),
    sourceAddress: text("source_address"),
    fields: jsonb("fields").notNull(),
    rawBody: bytea("raw_body"),
    /** The query string as received (without the token), kept when its fields could not be stored faithfully. */
    rawQuery: text("raw_query"),
    receivedAt: tstz("received_at").notNull(),
    phone: text("phone"),
    smscId: text("smsc_id"),
    signature: text("signature"),
    error: text("error"),
    errorDetail: text("error_detail"),
  },
  (t) => [
    index("callbacks_received_at_idx").on(t.receivedAt.desc(), t.id.desc()),
    index("callbacks_kind_received_at_idx").on(t.kind, t.receivedAt.desc()),
    index("callbacks_error_received_at_idx").on(t.receivedAt.desc()).where(sql`${t.error} is not null`),
  ],
);

/** Dedupe keys: a retry of a stored callback finds its key here and changes nothing. */
export const callbackKeys = pgTable(
  "callback_keys",
  {
    account: text("account").notNull(),
    phone: text("phone").notNull(),
    key: text("key").notNull(),
    callbackId: bigint("callback_id", { mode: "number" }).notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.account, t.phone, t.key] })],
);

/** One row per account + SMSC message id + phone: the message's current state. */
export const messages = pgTable(
  "messages",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    account: text("account").notNull(),
    smscId: text("smsc_id").notNull(),
    phone: text("phone").notNull(),
    type: smallint("type"),
    status: smallint("status"),
    err: integer("err"),
    final: boolean("final").notNull().default(false),
    statusAt: tstz("status_at"),
    cost: numeric("cost", { precision: 14, scale: 4 }),
    parts: integer("parts"),
    sender: text("sender"),
    /** The status point (statusPointKey) each of cost, parts and sender came from; "~": the registration. */
    costFrom: text("cost_from"),
    partsFrom: text("parts_from"),
    senderFrom: text("sender_from"),
    campaign: text("campaign"),
    mcc: text("mcc"),
    mnc: text("mnc"),
    /** The status point mcc/mnc came from. */
    mccFrom: text("mcc_from"),
    sentAt: tstz("sent_at"),
    firstStatusAt: tstz("first_status_at"),
    lastStatusAt: tstz("last_status_at"),
    deliveredAt: tstz("delivered_at"),
    /** A CRM registered the message (POST /v1/messages): sent_at, sender, campaign and validity come from it. */
    registered: boolean("registered").notNull().default(false),
    validUntil: tstz("valid_until"),
    menuId: text("menu_id"),
    /** The country of the number's range. */
    countryIso: text("country_iso"),
    /** The operator the statistics place the message on: its own mcc/mnc, else the number's HLR when first seen. */
    operatorMcc: text("operator_mcc"),
    operatorMnc: text("operator_mnc"),
    /** Where statistics place the message in time: the registered send time, else its earliest status time. */
    placedAt: tstz("placed_at"),
    createdAt: tstz("created_at").notNull(),
    updatedAt: tstz("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("messages_account_smsc_id_phone_key").on(t.account, t.smscId, t.phone),
    index("messages_phone_idx").on(t.phone),
    // GET /v1/messages/{id} without an account.
    index("messages_smsc_id_phone_idx").on(t.smscId, t.phone),
    // IVR funnels: the calls linked to a menu.
    index("messages_menu_id_placed_at_idx").on(t.menuId, t.placedAt).where(sql`${t.menuId} IS NOT NULL`),
    index("messages_placed_at_idx").on(t.placedAt.desc(), t.id.desc()),
    index("messages_missing_receipt_idx").on(t.validUntil).where(sql`${t.registered} AND NOT ${t.final}`),
    // A number's delivery evidence (verdicts): its messages' final statuses, newest first.
    index("messages_phone_final_status_at_idx").on(t.phone, t.statusAt.desc()).where(sql`${t.final}`),
  ],
);

/**
 * Delivery statistics, kept current in the same transaction that stores a callback: one row per cell, each message
 * counted in exactly one cell (its current state). No phone numbers: rollups survive retention and erasure.
 */
export const deliveryRollups = pgTable(
  "delivery_rollups",
  {
    hour: tstz("hour").notNull(),
    account: text("account").notNull(),
    mcc: text("mcc"),
    mnc: text("mnc"),
    country: text("country"),
    type: smallint("type"),
    sender: text("sender"),
    campaign: text("campaign"),
    status: smallint("status"),
    err: integer("err"),
    messages: integer("messages").notNull().default(0),
    cost: numeric("cost", { precision: 18, scale: 4 }).notNull().default("0"),
    /** Latency histogram, sent → delivered: bucket i counts latencies ≤ LATENCY_EDGES[i] (the last is +inf). */
    latency: integer("latency").array().notNull(),
    latencyFromRegistered: integer("latency_from_registered").notNull().default(0),
  },
  (t) => [
    unique("delivery_rollups_cell_key")
      .on(t.hour, t.account, t.mcc, t.mnc, t.country, t.type, t.sender, t.campaign, t.status, t.err)
      .nullsNotDistinct(),
  ],
);

/** API keys, stored as SHA-256 hashes. */
export const apiKeys = pgTable("api_keys", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  scope: text("scope").notNull(),
  keyHash: text("key_hash").notNull().unique(),
  createdAt: tstz("created_at").notNull(),
  revokedAt: tstz("revoked_at"),
});

/** One row per distinct status change of a message. */
export const statusEvents = pgTable(
  "status_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    account: text("account").notNull(),
    smscId: text("smsc_id").notNull(),
    phone: text("phone").notNull(),
    type: smallint("type"),
    status: smallint("status").notNull(),
    err: integer("err").notNull(),
    eventAt: tstz("event_at").notNull(),
    receivedAt: tstz("received_at").notNull(),
    callbackId: bigint("callback_id", { mode: "number" }).notNull(),
  },
  (t) => [
    uniqueIndex("status_events_change_key").on(t.phone, t.account, t.smscId, t.status, t.err, t.eventAt),
    index("status_events_received_at_idx").on(t.receivedAt),
  ],
);

/** One row per HLR answer. */
export const hlrResults = pgTable(
  "hlr_results",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    account: text("account").notNull(),
    smscId: text("smsc_id").notNull(),
    phone: text("phone").notNull(),
    status: smallint("status").notNull(),
    err: integer("err").notNull(),
    imsi: text("imsi"),
    msc: text("msc"),
    mcc: text("mcc"),
    mnc: text("mnc"),
    country: text("country"),
    network: text("network"),
    roamingCountry: text("roaming_country"),
    roamingNetwork: text("roaming_network"),
    roaming: boolean("roaming"),
    eventAt: tstz("event_at").notNull(),
    receivedAt: tstz("received_at").notNull(),
    callbackId: bigint("callback_id", { mode: "number" }).notNull(),
  },
  (t) => [
    uniqueIndex("hlr_results_answer_key").on(t.phone, t.account, t.smscId, t.status, t.err, t.eventAt),
    index("hlr_results_phone_event_at_idx").on(t.phone, t.eventAt.desc()),
  ],
);

/** What we know now about one phone number. */
export const numbers = pgTable("numbers", {
  phone: text("phone").primaryKey(),
  countryIso: text("country_iso"),
  mcc: text("mcc"),
  mnc: text("mnc"),
  imsi: text("imsi"),
  msc: text("msc"),
  countryName: text("country_name"),
  network: text("network"),
  roaming: boolean("roaming"),
  roamingCountry: text("roaming_country"),
  roamingNetwork: text("roaming_network"),
  lastHlrAt: tstz("last_hlr_at"),
  lastHlrStatus: smallint("last_hlr_status"),
  lastHlrErr: integer("last_hlr_err"),
  lastStatus: smallint("last_status"),
  lastErr: integer("last_err"),
  lastStatusAt: tstz("last_status_at"),
  deliveredCount: integer("delivered_count").notNull().default(0),
  failedCount: integer("failed_count").notNull().default(0),
  lastDeliveredAt: tstz("last_delivered_at"),
  firstSeenAt: tstz("first_seen_at").notNull(),
  lastSeenAt: tstz("last_seen_at").notNull(),
});

/** Incoming SMS (MO) forwarded by SMSC. */
export const incomingMessages = pgTable(
  "incoming_messages",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    account: text("account").notNull(),
    smscId: text("smsc_id"),
    phone: text("phone").notNull(),
    toPhone: text("to_phone"),
    text: text("text").notNull(),
    eventAt: tstz("event_at").notNull(),
    receivedAt: tstz("received_at").notNull(),
    fields: jsonb("fields").notNull(),
    callbackId: bigint("callback_id", { mode: "number" }).notNull(),
  },
  (t) => [
    index("incoming_messages_phone_idx").on(t.phone, t.eventAt.desc()),
    index("incoming_messages_event_at_idx").on(t.eventAt.desc()),
    uniqueIndex("incoming_messages_callback_key").on(t.phone, t.callbackId),
  ],
);

/** "Confirm the number with a call" events. */
export const waitcallEvents = pgTable(
  "waitcall_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    account: text("account").notNull(),
    phone: text("phone").notNull(),
    eventAt: tstz("event_at").notNull(),
    receivedAt: tstz("received_at").notNull(),
    fields: jsonb("fields").notNull(),
    callbackId: bigint("callback_id", { mode: "number" }).notNull(),
  },
  (t) => [index("waitcall_events_phone_idx").on(t.phone, t.eventAt.desc()), uniqueIndex("waitcall_events_callback_key").on(t.phone, t.callbackId)],
);

/** Voice-menu (IVR) events sent by the menu's `url` command. */
export const ivrEvents = pgTable(
  "ivr_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    account: text("account").notNull(),
    smscId: text("smsc_id"),
    phone: text("phone"),
    menuPath: text("menu_path"),
    seconds: integer("seconds"),
    eventAt: tstz("event_at").notNull(),
    receivedAt: tstz("received_at").notNull(),
    fields: jsonb("fields").notNull(),
    callbackId: bigint("callback_id", { mode: "number" }).notNull(),
  },
  (t) => [
    index("ivr_events_phone_idx").on(t.phone, t.eventAt.desc()),
    index("ivr_events_smsc_id_idx").on(t.account, t.smscId),
    uniqueIndex("ivr_events_callback_key").on(t.callbackId),
  ],
);

/** Voice menus (SMSC's `{menu: ...}` macro), validated and parsed into a tree. */
export const ivrMenus = pgTable("ivr_menus", {
  id: text("id").primaryKey(),
  name: text("name"),
  text: text("text").notNull(),
  tree: jsonb("tree").notNull(),
  createdAt: tstz("created_at").notNull(),
});

/**
 * Opt-outs: the latest STOP/START word a number sent, whatever order they arrived in. Global across accounts and
 * senders.
 */
export const optOuts = pgTable(
  "opt_outs",
  {
    phone: text("phone").primaryKey(),
    optedOut: boolean("opted_out").notNull(),
    word: text("word").notNull(),
    message: text("message").notNull(),
    /** When the deciding message was sent (its event time). */
    eventAt: tstz("event_at").notNull(),
    account: text("account").notNull(),
    callbackId: bigint("callback_id", { mode: "number" }).notNull(),
    updatedAt: tstz("updated_at").notNull(),
  },
  (t) => [index("opt_outs_opted_out_idx").on(t.eventAt.desc()).where(sql`${t.optedOut}`)],
);

/** Number-list hygiene reports: one row per uploaded list. Progress lives here, so any instance can answer. */
export const hygieneReports = pgTable(
  "hygiene_reports",
  {
    id: text("id").primaryKey(),
    /** running | done | failed */
    status: text("status").notNull(),
    failure: text("failure"),
    /** The upload's options: column, default_country, max_age. */
    options: jsonb("options").notNull(),
    /** How the input was read: format, encoding, delimiter, header, the phone column, the input's column names. */
    input: jsonb("input"),
    totalRows: integer("total_rows"),
    rowsDone: integer("rows_done").notNull().default(0),
    summary: jsonb("summary"),
    createdAt: tstz("created_at").notNull(),
    updatedAt: tstz("updated_at").notNull(),
    finishedAt: tstz("finished_at"),
    expiresAt: tstz("expires_at").notNull(),
    /** The id of the API key that uploaded the list: only it and admin keys may read the report. Null: made by an admin (API_KEYS, an open API, the command line). */
    ownerKeyId: text("owner_key_id"),
  },
  (t) => [index("hygiene_reports_expires_at_idx").on(t.expiresAt)],
);

/** One row per data row of an uploaded list: the cells as uploaded, then the classification. */
export const hygieneRows = pgTable(
  "hygiene_rows",
  {
    reportId: text("report_id").notNull(),
    /** 1-based data-row number (header excluded). */
    rowNo: integer("row_no").notNull(),
    cells: text("cells").array().notNull(),
    phone: text("phone"),
    phoneError: text("phone_error"),
    duplicateOf: integer("duplicate_of"),
    verdict: text("verdict"),
    reason: text("reason"),
    evidenceAt: tstz("evidence_at"),
    operator: text("operator"),
    country: text("country"),
    roaming: boolean("roaming"),
    optedOut: boolean("opted_out"),
    action: text("action"),
  },
  (t) => [primaryKey({ columns: [t.reportId, t.rowNo] }), index("hygiene_rows_report_phone_idx").on(t.reportId, t.phone)],
);

/**
 * What erasure keeps of an opted-out number: a SHA-256 of its digits, so lookups still answer opted_out: true while
 * nothing else about it is stored.
 */
export const suppressions = pgTable("suppressions", {
  phoneHash: text("phone_hash").primaryKey(),
  createdAt: tstz("created_at").notNull(),
});

/**
 * Receipt-import lines without a phone, staged while the file streams in and matched after it (so an import's memory
 * does not grow with the file). Rows of an import are deleted when it ends.
 */
export const importLines = pgTable(
  "import_lines",
  {
    importId: text("import_id").notNull(),
    lineNo: integer("line_no").notNull(),
    smscId: text("smsc_id").notNull(),
    receipt: text("receipt").notNull(),
    createdAt: tstz("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.importId, t.lineNo] })],
);
