// Receiving one callback: who sent it, what it says, and storing it through the writer. The route only reads the
// HTTP request and maps the outcome to an answer.
import type { Config } from "../config.js";
import { mergeFields, parseCallbackBody, parseQueryString, type BodyResult, type Fields } from "../domain/callback-body.js";
import { normalizeCallback, type CallbackSource, type NormalizeOptions, type NormalizedCallback } from "../domain/callback.js";
import { maskPhone, type Logger } from "../http/logger.js";
import { checkSignature, createAccountResolver, type SignatureCheck } from "./authenticity.js";
import type { Metrics } from "../http/metrics.js";
import type { CallbackRecord, StoreOutcome } from "./store.js";
import { WriterUnavailableError, type Writer } from "./writer.js";

export type IncomingCallback = {
  source: CallbackSource;
  method: string;
  path: string;
  /** The query string as received, without '?'. */
  rawQuery: string;
  /** The X-Callback-Token header, if any. */
  headerToken: string | undefined;
  contentType: string | null;
  /** Reads the body: null when it is over the limit. */
  readBody: () => Promise<Uint8Array | null>;
  sourceAddress: string | null;
  receivedAt: Date;
};

/** 200: stored (or a duplicate); 401: wrong token or enforced signature; 413: too large; 503: retry later. */
export type ReceiveOutcome = 200 | 401 | 413 | 503;

/** Postgres text cannot hold NUL, and jsonb no lone surrogates: clean the fields, keep the body bytes instead. */
export function sanitizeFields(fields: Fields): { fields: Fields; changed: boolean } {
  let changed = false;
  const out = Object.create(null) as Fields; // field names like __proto__ or constructor are ordinary fields
  for (const [k, v] of Object.entries(fields)) {
    const ck = k.replaceAll("\u0000", "").toWellFormed();
    const cv = v.replaceAll("\u0000", "").toWellFormed();
    if (ck !== k || cv !== v) changed = true;
    if (ck !== "" && !Object.hasOwn(out, ck)) out[ck] = cv;
  }
  return { fields: out, changed };
}

/** The raw query string without its `token` pairs (a secret is never stored). */
function withoutToken(rawQuery: string): string {
  return rawQuery
    .split("&")
    .filter((pair) => Object.keys(parseQueryString(pair))[0] !== "token")
    .join("&");
}

/**
 * What a callback says: its query and body fields merged (the body wins), cleaned for storage, and normalised.
 * An unreadable body leaves the query's fields and an error; its bytes become part of its identity, so two different
 * bodies never collide. The callback route and `replay` both read callbacks through this.
 */
export function interpretCallback(
  query: Fields,
  bytes: Uint8Array,
  contentType: string | null,
  source: CallbackSource,
  receivedAt: Date,
  options: NormalizeOptions,
): { body: BodyResult; clean: { fields: Fields; changed: boolean }; normalized: NormalizedCallback } {
  const body = parseCallbackBody(bytes, contentType ?? undefined);
  const merged = body.ok ? mergeFields(query, body.fields) : { ...query };
  delete merged.token; // a secret: never stored, wherever it came from
  const clean = sanitizeFields(merged);
  let normalized = normalizeCallback(clean.fields, source, receivedAt, options);
  if (!body.ok) {
    const bodyMaterial = Buffer.from(bytes).toString("base64");
    normalized = { ...normalized, error: body.error, dedupe: `${normalized.dedupe}|body|${bodyMaterial}`, status: null, incoming: null, waitcall: null, ivr: null };
  }
  return { body, clean, normalized };
}

export function createReceiver(deps: { config: Config; writer: Writer; logger: Logger; metrics: Metrics }): (req: IncomingCallback) => Promise<ReceiveOutcome> {
  const { config, writer, logger, metrics } = deps;
  const resolveAccount = createAccountResolver(config);
  return async function receiveCallback(req) {
    const query = parseQueryString(req.rawQuery);
    const account = resolveAccount(query.token ?? req.headerToken);
    if (!account) {
      metrics.callbacks.inc({ kind: "unknown", outcome: "unauthorized" });
      return 401;
    }

    const bytes = await req.readBody();
    if (bytes === null) {
      metrics.callbacks.inc({ kind: "unknown", outcome: "too_large" });
      return 413;
    }
    const { body, clean, normalized } = interpretCallback(query, bytes, req.contentType, req.source, req.receivedAt, config.normalize);

    let signature: SignatureCheck | null = null;
    if (config.signatureMode !== "off" && normalized.signatureBase !== null && account.secret) {
      signature = checkSignature(clean.fields, normalized.signatureBase, account.secret);
      if (signature !== "ok") {
        metrics.signatureFailures.inc({ result: signature });
        logger.warn({ account: account.name, kind: normalized.kind, signature, phone: maskPhone(normalized.phone) }, "callback signature check failed");
        if (config.signatureMode === "enforce") {
          metrics.callbacks.inc({ kind: normalized.kind, outcome: "unauthorized" });
          return 401;
        }
      }
    }

    const record: CallbackRecord = {
      account: account.name,
      source: req.source,
      method: req.method,
      route: req.path,
      contentType: req.contentType,
      sourceAddress: req.sourceAddress,
      fields: clean.fields,
      rawBody: (!body.ok || clean.changed) && bytes.length > 0 ? bytes : null,
      rawQuery: clean.changed && req.rawQuery !== "" ? withoutToken(req.rawQuery) : null,
      receivedAt: req.receivedAt,
      signature,
      normalized,
    };
    if (normalized.error) {
      logger.info({ account: account.name, kind: normalized.kind, error: normalized.error.code }, "callback stored raw: not usable");
    }
    let stored: StoreOutcome;
    try {
      stored = await writer.submit(record);
    } catch (err) {
      if (err instanceof WriterUnavailableError) {
        metrics.callbacks.inc({ kind: normalized.kind, outcome: "unavailable" });
        return 503;
      }
      throw err;
    }
    metrics.callbacks.inc({ kind: normalized.kind, outcome: stored });
    if (stored === "duplicate") metrics.duplicates.inc();
    else if (normalized.error) metrics.parseErrors.inc({ code: normalized.error.code });
    return 200;
  };
}
