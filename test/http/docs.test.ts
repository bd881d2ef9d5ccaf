// GET /openapi.yaml and GET /docs: public, generated from the app's own routes, and self-contained (every asset of
// the reference page is served by the service; nothing points outside it).
import fs from "node:fs";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DOCS_ASSET_NAMES } from "../../src/http/docs.js";
import { createTestApp, type TestApp } from "../helpers/app.js";

const SECRETS = {
  API_KEYS: "docs-test-api-key-0123456789",
  CALLBACK_ACCOUNTS: "shop:docs-test-callback-token:docs-test-smsc-secret",
};

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp(SECRETS);
});
afterAll(async () => {
  await t?.close();
});

/** The URLs the page loads: every src= and href=. */
function referencedUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!.replaceAll("&amp;", "&"));
}

const CONTENT_TYPES: Record<string, string> = { css: "text/css", js: "text/javascript" };

describe("GET /openapi.yaml", () => {
  it("answers, without an API key, the YAML the routes generate, the same as the committed openapi.yaml", async () => {
    const res = await t.request("/openapi.yaml");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/yaml; charset=utf-8");
    const doc = parse(res.text) as { openapi: string; info: { title: string }; paths: Record<string, Record<string, { tags?: string[] }>> };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("smsc-hub");
    expect(res.text).toBe(fs.readFileSync(new URL("../../openapi.yaml", import.meta.url), "utf8"));
  });

  it("documents itself and /docs under the docs tag", async () => {
    const doc = parse((await t.request("/openapi.yaml")).text) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    expect(doc.paths["/openapi.yaml"]?.get?.tags).toEqual(["docs"]);
    expect(doc.paths["/docs"]?.get?.tags).toEqual(["docs"]);
    expect(doc.paths["/docs/assets/{file}"]?.get?.tags).toEqual(["docs"]);
  });

  it("carries none of the configured secrets (keys, callback tokens, SMSC secrets)", async () => {
    const { text } = await t.request("/openapi.yaml");
    for (const secret of ["docs-test-api-key-0123456789", "docs-test-callback-token", "docs-test-smsc-secret"]) {
      expect(text).not.toContain(secret);
    }
  });

  it("is generated once and kept", async () => {
    const a = await t.app.request("/openapi.yaml");
    const b = await t.app.request("/openapi.yaml");
    expect(await a.text()).toBe(await b.text());
  });
});

describe("GET /docs", () => {
  it("answers, without an API key, an HTML page with a CSP of 'self' and only local, relative URLs", async () => {
    const res = await t.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/https?:|\*|unsafe-/);
    expect(res.text).not.toMatch(/https?:\/\//i);
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i); // no inline script
    expect(res.text).not.toMatch(/\son[a-z]+=/i); // no inline event handler
    const urls = referencedUrls(res.text);
    expect(urls.length).toBeGreaterThanOrEqual(4);
    for (const url of urls) expect(url, url).toMatch(/^(docs\/assets\/[\w.-]+\?v=[0-9a-f]+|openapi\.yaml|data:,)$/);
  });

  it("serves every asset the page references, with its content type and a long cache", async () => {
    const html = (await t.request("/docs")).text;
    const assets = referencedUrls(html).filter((u) => u.startsWith("docs/assets/"));
    expect(assets.map((u) => u.split("?")[0]!.split("/").pop()).sort()).toEqual([...DOCS_ASSET_NAMES].sort());
    for (const url of assets) {
      const resolved = new URL(url, "http://localhost/docs");
      expect(resolved.pathname.startsWith("/docs/assets/")).toBe(true);
      const res = await t.request(resolved.pathname + resolved.search);
      expect(res.status, url).toBe(200);
      const ext = resolved.pathname.split(".").pop()!;
      expect(res.headers.get("content-type"), url).toBe(`${CONTENT_TYPES[ext]}; charset=utf-8`);
      expect(res.headers.get("cache-control"), url).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.text.length, url).toBeGreaterThan(50);
    }
  });

  it("points its own init script at openapi.yaml and keeps Swagger UI from calling out", async () => {
    const js = (await t.request("/docs/assets/docs.js")).text;
    expect(new URL(js.match(/new URL\("([^"]+)"/)![1]!, "http://localhost/docs/assets/docs.js?v=1").pathname).toBe("/openapi.yaml");
    expect(js).toContain("validatorUrl: null");
    expect(js).toContain("queryConfigEnabled: false");
  });

  it("asks for revalidation when an asset is asked for without the page's content hash", async () => {
    const res = await t.request("/docs/assets/swagger-ui.css");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-cache");
  });

  it("gzips an asset for a client that accepts it", async () => {
    const plain = await t.app.request("/docs/assets/swagger-ui-bundle.js");
    const zipped = await t.app.request("/docs/assets/swagger-ui-bundle.js", { headers: { "accept-encoding": "gzip, br" } });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect(zipped.headers.get("vary")).toMatch(/accept-encoding/i);
    const body = Buffer.from(await zipped.arrayBuffer());
    const text = await plain.text();
    expect(body.length).toBeLessThan(text.length / 2);
    expect(gunzipSync(body).toString("utf8")).toBe(text);
  });

  it("answers 404 problem+json for an asset it does not have", async () => {
    for (const path of ["/docs/assets/nope.js", "/docs/assets/swagger-ui-es-bundle.js", "/docs/assets/index.html", "/docs/assets/constructor", "/docs/assets/__proto__"]) {
      const res = await t.request(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toBe("application/problem+json");
    }
  });

  it("answers 404 to path traversal attempts", async () => {
    for (const path of [
      "/docs/assets/..%2Fpackage.json",
      "/docs/assets/..%2F..%2Fpackage.json",
      "/docs/assets/%2E%2E%2Fpackage.json",
      "/docs/assets/..%5Cpackage.json",
      "/docs/assets/../../package.json",
      "/docs/assets/..%252Fpackage.json",
      "/docs/assets/swagger-ui.css%00.js",
      "/docs/assets/%2Fetc%2Fpasswd",
    ]) {
      const res = await t.request(path);
      expect(res.status, path).toBe(404);
      expect(res.text, path).not.toContain('"name"');
    }
  });
});
