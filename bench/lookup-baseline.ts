// The number-lookup benchmark's baseline: bare Hono on @hono/node-server plus one prepared SELECT of the number's
// row by phone (postgres.js, as many connections as the service has: DATABASE_POOL_SIZE), answered as JSON.
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import postgres from "postgres";
import { DEFAULT_POOL_SIZE } from "../src/db/client.js";

const sql = postgres(process.env.DATABASE_URL!, { max: Number(process.env.DATABASE_POOL_SIZE ?? DEFAULT_POOL_SIZE), onnotice: () => {} });
const app = new Hono();
app.get("/v1/numbers/:phone", async (c) => {
  const rows = await sql`SELECT * FROM numbers WHERE phone = ${c.req.param("phone")}`;
  return c.json(rows[0] ?? null);
});
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT) }, () => process.stdout.write('{"msg":"listening"}\n'));
process.on("SIGTERM", () => void sql.end({ timeout: 1 }).then(() => process.exit(0)));
