// Checks a response body against the schema its route documents for that status (from the same route
// definitions openapi.yaml is generated from). An undocumented status or content type fails the test.
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ZodType } from "zod";
import type { AppEnv } from "../../src/app.js";

type RouteDef = {
  method: string;
  path: string;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
};

function routesOf(app: OpenAPIHono<AppEnv>): RouteDef[] {
  return app.openAPIRegistry.definitions.flatMap((d) => (d.type === "route" ? [d.route as unknown as RouteDef] : []));
}

function matches(template: string, pathname: string): boolean {
  const t = template.split("/");
  const p = pathname.split("/");
  return t.length === p.length && t.every((seg, i) => (seg.startsWith("{") && seg.endsWith("}") ? p[i] !== "" : seg === p[i]));
}

export function assertMatchesSchema(
  app: OpenAPIHono<AppEnv>,
  method: string,
  path: string,
  res: { status: number; headers: Headers; text: string },
): void {
  const pathname = new URL(path, "http://test").pathname;
  const route = routesOf(app).find((r) => r.method === method.toLowerCase() && matches(r.path, pathname));
  if (!route) return; // not a documented route (a 404 for an unknown path is checked by its own test)
  const response = route.responses[String(res.status)];
  if (!response) throw new Error(`${method} ${pathname} answered ${res.status}, which its route does not document`);
  const contentType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const content = response.content?.[contentType];
  if (!content) {
    throw new Error(`${method} ${pathname} ${res.status} answered ${contentType}, not documented (${Object.keys(response.content ?? {}).join(", ")})`);
  }
  const schema = content.schema as ZodType | undefined;
  if (!schema || typeof (schema as { safeParse?: unknown }).safeParse !== "function") return;
  const value = contentType.endsWith("json") ? JSON.parse(res.text) : res.text;
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new Error(`${method} ${pathname} ${res.status} body does not match its schema: ${JSON.stringify(result.error.issues)}`);
  }
}
