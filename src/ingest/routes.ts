// The callback routes SMSC calls: /callbacks/smsc (the cabinet's handler URL) and /callbacks/smsc/ivr (for voice
// menus' `url` command). Both take every kind of event, by GET or POST, in any of SMSC's encodings.
// Answers: 200 "OK" after COMMIT (also for duplicates and for stored-but-unusable requests), 401 for a wrong token
// or an enforced signature that fails, 413 over the size limit, 503 with Retry-After while storage is unavailable.
import { getConnInfo } from "@hono/node-server/conninfo";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppDeps, AppEnv } from "../app.js";
import { mergeFields, parseCallbackBody, parseQueryString, type Fields } from "../domain/callback-body.js";
import { normalizeCallback, type CallbackSource } from "../domain/callback.js";
import { maskPhone } from "../http/logger.js";
import { checkSignature, createAccountResolver, type SignatureCheck } from "./authenticity.js";
import type { CallbackRecord } from "./store.js";
import { WriterUnavailableError } from "./writer.js";
import { registerCallbackDocs } from "./docs.js";

export const CALLBACK_PATH = "/callbacks/smsc";
export const IVR_CALLBACK_PATH = "/callbacks/smsc/ivr";
export const RETRY_AFTER_SECONDS = 5;

const text = (c: Context, body: string, status: 200 | 401 | 405 | 413 | 503, headers: Record<string, string> = {}) =>
  c.body(body, status, { "content-type": "text/plain; charset=utf-8", ...headers });

/** Reads the body up to `limit` bytes; null when it is larger. */
async function readBody(req: Request, limit: number): Promise<Uint8Array | null> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) return null;
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

function sourceAddress(c: Context): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null; // not served by node (in-process tests)
  }
}

/** Postgres text cannot hold NUL, and jsonb no lone surrogates: clean the fields, keep the body bytes instead. */
function sanitizeFields(fields: Fields): { fields: Fields; changed: boolean } {
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

export function mountCallbackRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const { config, writer, logger } = deps;
  const resolveAccount = createAccountResolver(config);

  const handle = (source: CallbackSource) =>
    async function handleCallback(c: Context<AppEnv>): Promise<Response> {
      const receivedAt = deps.clock();
      const url = new URL(c.req.url);
      const rawQuery = url.search.startsWith("?") ? url.search.slice(1) : "";
      const query = parseQueryString(rawQuery);
      const account = resolveAccount(query.token ?? c.req.header("x-callback-token"));
      if (!account) return text(c, "Unauthorized", 401);
      delete query.token; // a secret: never stored

      const bytes = c.req.method === "POST" ? await readBody(c.req.raw, config.callbackBodyLimit) : new Uint8Array(0);
      if (bytes === null) return text(c, "Payload Too Large", 413);
      const contentType = c.req.header("content-type") ?? null;
      const body = parseCallbackBody(bytes, contentType ?? undefined);
      const merged = body.ok ? mergeFields(query, body.fields) : query;
      const clean = sanitizeFields(merged);
      let normalized = normalizeCallback(clean.fields, source, receivedAt, {
        timeZone: config.smscTimezone,
        defaultCountry: config.defaultCountry,
      });
      if (!body.ok) {
        // Unreadable body: keep it raw; its bytes are part of its identity, so two different bodies never collide.
        const bodyMaterial = Buffer.from(bytes).toString("base64");
        normalized = { ...normalized, error: body.error, dedupe: `${normalized.dedupe}|body|${bodyMaterial}`, status: null, incoming: null, waitcall: null, ivr: null };
      }

      let signature: SignatureCheck | null = null;
      if (config.signatureMode !== "off" && normalized.signatureBase !== null && account.secret) {
        signature = checkSignature(clean.fields, normalized.signatureBase, account.secret);
        if (signature !== "ok") {
          logger.warn({ account: account.name, kind: normalized.kind, signature, phone: maskPhone(normalized.phone) }, "callback signature check failed");
          if (config.signatureMode === "enforce") return text(c, "Unauthorized", 401);
        }
      }

      const record: CallbackRecord = {
        account: account.name,
        source,
        method: c.req.method,
        route: url.pathname,
        contentType,
        sourceAddress: sourceAddress(c),
        fields: clean.fields,
        rawBody: (!body.ok || clean.changed) && bytes.length > 0 ? bytes : null,
        rawQuery: clean.changed && rawQuery !== "" ? withoutToken(rawQuery) : null,
        receivedAt,
        signature,
        normalized,
      };
      if (normalized.error) {
        logger.info({ account: account.name, kind: normalized.kind, error: normalized.error.code }, "callback stored raw: not usable");
      }
      try {
        await writer.submit(record);
      } catch (err) {
        if (err instanceof WriterUnavailableError) {
          return text(c, "Service Unavailable", 503, { "Retry-After": String(RETRY_AFTER_SECONDS) });
        }
        throw err;
      }
      return text(c, "OK", 200);
    };

  for (const [path, source] of [
    [CALLBACK_PATH, "main"],
    [IVR_CALLBACK_PATH, "ivr"],
  ] as const) {
    app.on(["GET", "POST"], path, handle(source));
    app.on(["PUT", "PATCH", "DELETE"], path, (c) => text(c, "Method Not Allowed", 405, { Allow: "GET, POST" }));
  }
  registerCallbackDocs(app);
}
