// DELETE /v1/numbers/{phone} (admin): erases everything stored about one number.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../app.js";
import { ERASED_TABLES } from "../db/queries/erasure.js";
import { eraseNumberEverywhere } from "../ingest/erase.js";
import { requireScope } from "./auth.js";
import { commonProblems, problem, requirePhone, safeText } from "./schemas.js";

const ErasureSchema = z
  .object({
    phone: z.string(),
    e164: z.string(),
    erased: z.record(z.enum(ERASED_TABLES), z.number().int()).openapi({ description: "Rows removed, per table" }),
    suppressed: z.boolean().openapi({ description: "The number had opted out: a hash of it is kept so it stays suppressed" }),
  })
  .openapi("Erasure");

export function mountErasureRoute(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/numbers/{phone}",
      tags: ["numbers"],
      summary: "Erase everything stored about one number (callbacks included); an opted-out number stays suppressed",
      description: "Delivery statistics hold no phone numbers and are kept. Callbacks that arrive later are stored as usual.",
      security: [{ bearer: [] }],
      middleware: [requireScope("admin")] as const,
      request: { params: z.object({ phone: safeText(64) }) },
      responses: {
        200: { description: "What was erased", content: { "application/json": { schema: ErasureSchema } } },
        ...commonProblems,
        422: problem("The input cannot be a phone number"),
      },
    }),
    async (c) => {
      const input = c.req.valid("param").phone;
      const p = requirePhone(input, deps.config.defaultCountry, { status: 422 });
      const result = await eraseNumberEverywhere(deps.db, p.phone, deps.clock());
      deps.logger.info({ erased: result.erased, suppressed: result.suppressed }, "number erased");
      return c.json({ phone: p.phone, e164: p.e164, ...result } as z.infer<typeof ErasureSchema>, 200);
    },
  );
}
