// The ingest benchmark's baseline: bare Hono on @hono/node-server that reads the same form bodies with
// URLSearchParams and answers 200, storing nothing.
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
let fields = 0;
app.post("/callbacks/smsc", async (c) => {
  const params = new URLSearchParams(await c.req.text());
  fields += params.size;
  return c.text("OK", 200);
});
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT) }, () => {
  process.stdout.write('{"msg":"listening"}\n');
});
process.on("SIGTERM", () => process.exit(0));
