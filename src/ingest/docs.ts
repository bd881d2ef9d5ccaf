// OpenAPI entries for the callback routes. They are not validated by zod (they take whatever SMSC sends), so they
// are registered as documentation only.
import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app.js";

const plain = (description: string, example: string) => ({
  description,
  content: { "text/plain": { schema: z.string().openapi({ example }) } },
});

const token = z
  .string()
  .optional()
  .openapi({ description: "The account's callback token (or the X-Callback-Token header). Required when tokens are configured." });

const fieldsSchema = z
  .record(z.string(), z.string())
  .openapi("CallbackFields", {
    description:
      "Whatever SMSC sends: status events (id, phone, status, err, ts, time, type, cost, sms_cnt, sender_id, mccmnc, md5, sha1), " +
      "HLR fields (imsi, msc, mcc, mnc, cn, net, rcn, rnet), incoming SMS (id, phone, mes, to, sent), wait-call (waitcall, phone, ts, md5), " +
      "IVR events (id, phone, menu, time). Unknown fields are kept.",
    example: { id: "48213", phone: "79161234567", status: "1", err: "0", ts: "1795168807", type: "0", cost: "3.45" },
  });

export function registerCallbackDocs(app: OpenAPIHono<AppEnv>): void {
  for (const [path, summary] of [
    ["/callbacks/smsc", "SMSC callback handler (statuses, HLR, ping, calls, incoming SMS, wait-call, IVR)"],
    ["/callbacks/smsc/ivr", "Address for voice menus' `url` command (takes every kind, too)"],
  ] as const) {
    const responses = {
      200: plain("Stored and committed (also duplicates and stored-but-unusable requests)", "OK"),
      401: plain("Wrong or missing account token, or an enforced signature failed", "Unauthorized"),
      413: plain("Body over CALLBACK_BODY_LIMIT", "Payload Too Large"),
      503: {
        ...plain("Storage unavailable or the writer's queue is full: retry after Retry-After seconds", "Service Unavailable"),
        headers: { "Retry-After": { schema: { type: "integer" as const }, description: "seconds" } },
      },
    };
    const request = {
      query: z.object({ token }).catchall(z.string()),
      headers: z.object({ "x-callback-token": z.string().optional() }),
    };
    app.openAPIRegistry.registerPath({ method: "get", path, tags: ["callbacks"], summary, request, responses });
    app.openAPIRegistry.registerPath({
      method: "post",
      path,
      tags: ["callbacks"],
      summary,
      request: {
        ...request,
        body: {
          content: {
            "application/x-www-form-urlencoded": { schema: fieldsSchema },
            "multipart/form-data": { schema: fieldsSchema },
            "application/json": { schema: fieldsSchema },
          },
        },
      },
      responses,
    });
  }
}
