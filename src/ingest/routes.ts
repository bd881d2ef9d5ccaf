// The callback routes SMSC calls: /callbacks/smsc (the cabinet's handler URL) and /callbacks/smsc/ivr (for voice
// menus' `url` command). Both take every kind of event, by GET or POST, in any of SMSC's encodings.
// Answers: 200 "OK" after COMMIT (also for duplicates and for stored-but-unusable requests), 401 for a wrong token
// or an enforced signature that fails, 413 over the size limit, 503 with Retry-After while storage is unavailable.
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import type { AppDeps, AppEnv } from "../app.js";
import type { CallbackSource } from "../domain/callback.js";
import { registerCallbackDocs } from "./docs.js";
import { createReceiver, type ReceiveOutcome } from "./receive.js";

export const CALLBACK_PATH = "/callbacks/smsc";
export const IVR_CALLBACK_PATH = "/callbacks/smsc/ivr";
export const RETRY_AFTER_SECONDS = 5;

const text = (c: Context, body: string, status: 200 | 401 | 405 | 413 | 503, headers: Record<string, string> = {}) =>
  c.body(body, status, { "content-type": "text/plain; charset=utf-8", ...headers });

/**
 * Reads the body up to `limit` bytes; null when it is larger. Under @hono/node-server it reads Node's request stream
 * directly (building a web ReadableStream for every callback costs a large share of the throughput); elsewhere (in
 * tests, `app.request()`) the Request's body.
 */
async function readBody(c: Context, limit: number): Promise<Uint8Array | null> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > limit) return null;
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const chunks: Uint8Array[] = [];
  let total = 0;
  const take = (chunk: Uint8Array): boolean => {
    total += chunk.byteLength;
    if (total > limit) return false;
    chunks.push(chunk);
    return true;
  };
  if (incoming && !incoming.readableEnded) {
    for await (const chunk of incoming as AsyncIterable<Buffer>) {
      if (!take(chunk)) {
        incoming.resume(); // drain the rest without keeping it
        return null;
      }
    }
  } else {
    const body = c.req.raw.body;
    if (!body) return new Uint8Array(0);
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!take(value)) {
        await reader.cancel().catch(() => {});
        return null;
      }
    }
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

const ANSWERS: Record<ReceiveOutcome, [string, Record<string, string>]> = {
  200: ["OK", {}],
  401: ["Unauthorized", {}],
  413: ["Payload Too Large", {}],
  503: ["Service Unavailable", { "Retry-After": String(RETRY_AFTER_SECONDS) }],
};

/**
 * The query string as sent, without `?` and without a fragment: what `new URL(url).search` gives, read without
 * parsing the whole URL (that cost about 3% of a callback's CPU).
 */
export function rawQueryOf(url: string): string {
  const hash = url.indexOf("#");
  const q = url.indexOf("?");
  if (q < 0 || (hash >= 0 && hash < q)) return "";
  return hash < 0 ? url.slice(q + 1) : url.slice(q + 1, hash);
}

export function mountCallbackRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  const receive = createReceiver(deps);

  const handle = (source: CallbackSource) =>
    async function handleCallback(c: Context<AppEnv>): Promise<Response> {
      // Hono answers HEAD with the GET handler: a HEAD is not a callback.
      if (c.req.method === "HEAD") return text(c, "Method Not Allowed", 405, { Allow: "GET, POST" });
      const outcome = await receive({
        source,
        method: c.req.method,
        path: c.req.path,
        rawQuery: rawQueryOf(c.req.url),
        headerToken: c.req.header("x-callback-token"),
        contentType: c.req.header("content-type") ?? null,
        readBody: () => (c.req.method === "POST" ? readBody(c, deps.config.callbackBodyLimit) : Promise.resolve(new Uint8Array(0))),
        sourceAddress: c.get("clientAddress"),
        receivedAt: deps.clock(),
      });
      const [body, headers] = ANSWERS[outcome];
      return text(c, body, outcome, headers);
    };

  for (const [path, source] of [
    [CALLBACK_PATH, "main"],
    [IVR_CALLBACK_PATH, "ivr"],
  ] as const) {
    app.on(["GET", "POST"], path, handle(source));
    app.on(["PUT", "PATCH", "DELETE", "OPTIONS"], path, (c) => text(c, "Method Not Allowed", 405, { Allow: "GET, POST" }));
  }
  registerCallbackDocs(app);
}
