import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { docsApp } from "../../src/docs-app.js";
import { openApiDocument, openApiYaml } from "../../src/openapi.js";
import { VERSION } from "../../src/version.js";

describe("openapi.yaml", () => {
  it("is exactly what the route definitions generate (run `npm run --silent cli -- openapi > openapi.yaml`)", () => {
    const committed = fs.readFileSync(new URL("../../openapi.yaml", import.meta.url), "utf8");
    expect(committed).toBe(openApiYaml(docsApp(), VERSION));
  });

  it("documents every route the contracts name", () => {
    const doc = openApiDocument(docsApp(), VERSION) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths["/callbacks/smsc"] ?? {}).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/callbacks/smsc/ivr"] ?? {}).sort()).toEqual(["get", "post"]);
    expect(doc.paths["/v1/callbacks"]).toHaveProperty("get");
    expect(doc.paths["/v1/import/receipts"]).toHaveProperty("post");
    expect(doc.paths["/healthz"]).toHaveProperty("get");
    expect(doc.paths["/readyz"]).toHaveProperty("get");
  });

  it("documents problem+json for the errors of every /v1 route", () => {
    const doc = openApiDocument(docsApp(), VERSION) as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
    };
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (!path.startsWith("/v1/")) continue;
      for (const [method, op] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) >= 400) {
            expect(Object.keys(response.content ?? {}), `${method} ${path} ${status}`).toEqual(["application/problem+json"]);
          }
        }
      }
    }
  });
});
