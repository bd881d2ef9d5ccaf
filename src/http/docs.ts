// Public documentation: GET /openapi.yaml (the document generated from this app's own route definitions) and
// GET /docs, an interactive reference (Swagger UI) whose every asset is served from /docs/assets/ by this service:
// no CDN, no external URL, a Content-Security-Policy of 'self'. Nothing is read at import time: the swagger-ui-dist
// files, the version and the YAML are read or generated on first use and then kept in memory.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { ProblemSchema } from "../api/schemas.js";
import type { AppEnv } from "../app.js";
import { openApiYaml } from "../openapi.js";
import { ProblemError } from "./problem.js";

export const OPENAPI_PATH = "/openapi.yaml";
export const DOCS_PATH = "/docs";
export const DOCS_ASSETS_PATH = "/docs/assets";

/**
 * /docs needs scripts, styles, the YAML (fetch) and "Try it out" calls from this origin only. The one addition is
 * data: for images: swagger-ui.css draws its icons as data: SVGs. No 'unsafe-inline' is needed: no script is inline,
 * nothing is evaluated, and Swagger UI (React) sets its inline styles through the DOM, which CSP does not restrict.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const IMMUTABLE = "public, max-age=31536000, immutable";

/** Our own init script: Swagger UI over /openapi.yaml, resolved from this script's URL so a path prefix works. */
const INIT_JS = `// smsc-hub API reference: Swagger UI over this service's own openapi.yaml.
(function () {
  "use strict";
  var spec = new URL("../../openapi.yaml", document.currentScript.src).href;
  window.addEventListener("load", function () {
    window.ui = SwaggerUIBundle({
      url: spec,
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      deepLinking: true,
      queryConfigEnabled: false,
      validatorUrl: null,
      displayRequestDuration: true,
    });
  });
})();
`;

const DOCS_CSS = `html { box-sizing: border-box; overflow-y: scroll; }
*, *::before, *::after { box-sizing: inherit; }
body { margin: 0; background: #fafafa; }
`;

type AssetSource = { package: "swagger-ui-dist"; file: string } | { text: string };
const TEXT_CSS = "text/css; charset=utf-8";
const TEXT_JS = "text/javascript; charset=utf-8";

/** The only files /docs/assets/ serves: a whitelist, so no request can name any other file. */
const ASSETS: Record<string, { type: string; source: AssetSource }> = {
  "swagger-ui.css": { type: TEXT_CSS, source: { package: "swagger-ui-dist", file: "swagger-ui.css" } },
  "swagger-ui-bundle.js": { type: TEXT_JS, source: { package: "swagger-ui-dist", file: "swagger-ui-bundle.js" } },
  "docs.css": { type: TEXT_CSS, source: { text: DOCS_CSS } },
  "docs.js": { type: TEXT_JS, source: { text: INIT_JS } },
};

export const DOCS_ASSET_NAMES: readonly string[] = Object.keys(ASSETS);

type LoadedAsset = { type: string; body: Uint8Array<ArrayBuffer>; gzip: Uint8Array<ArrayBuffer>; hash: string };

let assetsPromise: Promise<Map<string, LoadedAsset>> | undefined;

/** Reads (once) and keeps every asset with its gzip form and a content hash for cache-busting URLs. */
function loadAssets(): Promise<Map<string, LoadedAsset>> {
  assetsPromise ??= (async () => {
    const dir = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
    const loaded = new Map<string, LoadedAsset>();
    for (const [name, { type, source }] of Object.entries(ASSETS)) {
      const text = "text" in source ? source.text : await readFile(path.join(dir, source.file), "utf8");
      // The source maps are not served: drop the comment that would make developer tools ask for them.
      const body = new TextEncoder().encode(text.replace(/\n?\/[/*]# sourceMappingURL=[^\n]*\s*$/, "\n"));
      loaded.set(name, { type, body, gzip: new Uint8Array(gzipSync(body, { level: 9 })), hash: createHash("sha256").update(body).digest("hex").slice(0, 16) });
    }
    return loaded;
  })().catch((err: unknown) => {
    assetsPromise = undefined; // let a later request try again
    throw err;
  });
  return assetsPromise;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The page; every URL in it is relative (docs/assets/…, openapi.yaml), so it works under a path prefix too. */
function docsHtml(assets: Map<string, LoadedAsset>): string {
  const href = (name: string) => escapeHtml(`docs/assets/${name}?v=${assets.get(name)!.hash}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>smsc-hub API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${href("swagger-ui.css")}">
<link rel="stylesheet" href="${href("docs.css")}">
</head>
<body>
<noscript>This reference needs JavaScript. The OpenAPI document is at <a href="openapi.yaml">openapi.yaml</a>.</noscript>
<div id="swagger-ui"></div>
<script src="${href("swagger-ui-bundle.js")}"></script>
<script src="${href("docs.js")}"></script>
</body>
</html>
`;
}

/** Accept-Encoding names gzip (and not with q=0). */
const acceptsGzip = (c: Context) => /(?:^|,)\s*gzip\s*(?:,|$|;\s*q=(?!0(?:\.0*)?\s*(?:,|$)))/i.test(c.req.header("accept-encoding") ?? "");

const notFound = (file: string) => new ProblemError(404, "Not found", `no documentation asset named ${JSON.stringify(file.slice(0, 100))}`);

export function mountDocsRoutes(app: OpenAPIHono<AppEnv>): void {
  // The page's URLs are relative to /docs: send /docs/ there.
  app.get("/docs/", (c) => c.redirect("/docs", 301));
  // Generated from `app` itself on the first request (all routes are registered by then) and kept.
  let yamlPromise: Promise<string> | undefined;
  const yaml = () =>
    (yamlPromise ??= import("../version.js")
      .then(({ VERSION }) => openApiYaml(app, VERSION))
      .catch((err: unknown) => {
        yamlPromise = undefined;
        throw err;
      }));

  app.openapi(
    createRoute({
      method: "get",
      path: OPENAPI_PATH,
      tags: ["docs"],
      summary: "This OpenAPI document (no key needed)",
      description: "Generated from the running service's own route definitions; the same as openapi.yaml in the repository.",
      responses: {
        200: { description: "The OpenAPI 3.1 document", content: { "application/yaml": { schema: z.string() } } },
      },
    }),
    async (c) =>
      c.body(await yaml(), 200, {
        "content-type": "application/yaml; charset=utf-8",
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      }),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: DOCS_PATH,
      tags: ["docs"],
      summary: "Interactive API reference (no key needed)",
      description:
        "Swagger UI rendered from /openapi.yaml. Every script and stylesheet is served by this service under /docs/assets/; " +
        "the page is sent with a Content-Security-Policy that allows only this origin.",
      responses: {
        200: { description: "The reference page", content: { "text/html": { schema: z.string() } } },
      },
    }),
    async (c) =>
      c.body(docsHtml(await loadAssets()), 200, {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": DOCS_CSP,
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
      }),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: `${DOCS_ASSETS_PATH}/{file}`,
      tags: ["docs"],
      summary: "A script or stylesheet of the reference page",
      request: {
        params: z.object({
          file: z.string().openapi({ description: `One of: ${DOCS_ASSET_NAMES.join(", ")}`, example: "swagger-ui.css" }),
        }),
      },
      responses: {
        200: {
          description: "The file; cached for a year when asked for with the page's `?v=` content hash",
          content: { "text/css": { schema: z.string() }, "text/javascript": { schema: z.string() } },
        },
        404: { description: "No such asset", content: { "application/problem+json": { schema: ProblemSchema } } },
      },
    }),
    async (c) => {
      const { file } = c.req.valid("param");
      if (!Object.hasOwn(ASSETS, file)) throw notFound(file);
      const asset = (await loadAssets()).get(file);
      if (!asset) throw notFound(file);
      const gzip = acceptsGzip(c);
      const headers: Record<string, string> = {
        "content-type": asset.type,
        "cache-control": c.req.query("v") === asset.hash ? IMMUTABLE : "no-cache",
        "x-content-type-options": "nosniff",
        vary: "accept-encoding",
      };
      if (gzip) headers["content-encoding"] = "gzip";
      return c.body(gzip ? asset.gzip : asset.body, 200, headers);
    },
  );
}
