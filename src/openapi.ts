// The OpenAPI document, generated from the route definitions. `npm run --silent cli -- openapi` prints it;
// openapi.yaml in the repository is that output, and a test fails when the two differ.
import type { OpenAPIHono } from "@hono/zod-openapi";
import { stringify } from "yaml";
import type { AppEnv } from "./app.js";

export function openApiDocument(app: OpenAPIHono<AppEnv>, version: string): Record<string, unknown> {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "smsc-hub",
      version,
      description:
        "Receives SMSC (smsc.ru, smsc.ua, smsc.kz) callbacks durably and answers CRM systems over REST. " +
        "/v1 answers are JSON with snake_case fields and RFC 3339 UTC times; errors are application/problem+json (RFC 9457).",
    },
  }) as unknown as Record<string, unknown>;
}

export function openApiYaml(app: OpenAPIHono<AppEnv>, version: string): string {
  return stringify(openApiDocument(app, version), { lineWidth: 0, aliasDuplicateObjects: false });
}
