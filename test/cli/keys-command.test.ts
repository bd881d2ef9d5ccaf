// `smsc-hub keys` as a process (tsx src/cli.ts), against a database of the suite's own: a fresh Postgres database
// when DATABASE_URL is set, else an embedded PGlite folder in a temporary directory. A key it prints must then
// authenticate against the app using that database.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client.js";
import { createTestApp } from "../helpers/app.js";
import { createServerStore, ROOT, type ServerStore } from "../helpers/server-process.js";

const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const CLI = path.join(ROOT, "src", "cli.ts");

type Run = { code: number; stdout: string; stderr: string };

function cli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(TSX, [CLI, ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: "silent", ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

type ListedKey = { id: string; name: string; scope: string; created_at: string; revoked_at: string | null };
const listed = (run: Run): ListedKey[] => run.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as ListedKey);

/** Sends a request to the app over the store's database, as a fresh process would (no cache). */
async function requestWith(store: ServerStore, key: string, init: RequestInit & { path?: string } = {}) {
  const db = await store.open();
  const t = await createTestApp({}, { database: { db, url: undefined, drop: () => db.close() } });
  try {
    const { path: p = "/v1/callbacks", ...rest } = init;
    return await t.request(p, { ...rest, headers: { ...(rest.headers as Record<string, string>), authorization: `Bearer ${key}` } });
  } finally {
    await t.close();
    await db.close();
  }
}

describe("smsc-hub keys", () => {
  let store: ServerStore;
  beforeAll(async () => {
    store = await createServerStore();
  });
  afterAll(() => store.drop());

  /** Runs `keys create` and returns the printed key and the id it reports on stderr. */
  async function createKey(args: string[]): Promise<{ key: string; id: string; run: Run }> {
    const run = await cli(["keys", "create", ...args], store.env);
    expect(run.code, run.stderr).toBe(0);
    const id = /created (key_[0-9a-f]{12}) /.exec(run.stderr)?.[1];
    expect(id, run.stderr).toBeDefined();
    return { key: run.stdout.trim(), id: id!, run };
  }

  const importReceipts: RequestInit & { path: string } = { path: "/v1/import/receipts", method: "POST", headers: { "content-type": "text/plain" }, body: "" };

  describe("create", () => {
    it("prints only the new key on stdout (migrations applied first as needed)", async () => {
      const { key, run } = await createKey(["--name", "crm", "--scope", "write"]);
      expect(run.stdout).toMatch(/^shk_[A-Za-z0-9_-]{43}\n$/);
      expect(run.stderr).not.toContain(key);
    });

    it("the key authenticates against the app on that database, with its scope", async () => {
      const { key } = await createKey(["--name", "writer", "--scope", "write"]);
      expect((await requestWith(store, key)).status).toBe(200);
      expect((await requestWith(store, key, importReceipts)).status).toBe(200);
      expect((await requestWith(store, `${key}-not`)).status).toBe(401);
    });

    it("the default scope is read", async () => {
      const { key } = await createKey(["--name", "reader"]);
      expect((await requestWith(store, key)).status).toBe(200);
      expect((await requestWith(store, key, importReceipts)).status).toBe(403);
    });
  });

  describe("list", () => {
    it("shows each key as one JSON object per line, never the key or its hash", async () => {
      const { key, id } = await createKey(["--name", "listed", "--scope", "admin"]);
      const r = await cli(["keys", "list"], store.env);
      expect(r.code).toBe(0);
      const item = listed(r).find((k) => k.id === id);
      expect(item).toEqual({ id, name: "listed", scope: "admin", created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/), revoked_at: null });
      expect(r.stdout).not.toContain(key);
      expect(r.stdout).not.toMatch(/[0-9a-f]{64}/);
    });
  });

  describe("revoke", () => {
    it("marks the key revoked and it stops working; revoking again is harmless", async () => {
      const { key, id } = await createKey(["--name", "to-revoke"]);
      expect((await requestWith(store, key)).status).toBe(200);
      const r = await cli(["keys", "revoke", id], store.env);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(`revoked ${id}`);
      const item = listed(await cli(["keys", "list"], store.env)).find((k) => k.id === id);
      expect(item?.revoked_at).toMatch(/Z$/);
      expect((await requestWith(store, key)).status).toBe(401);
      const again = await cli(["keys", "revoke", id], store.env);
      expect(again.code).toBe(0);
      expect(again.stderr).toContain("already revoked");
    });

    it("an unknown id is a message on stderr and exit 1", async () => {
      const r = await cli(["keys", "revoke", "key_000000000000"], store.env);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain('no key with id "key_000000000000"');
    });
  });

  describe("usage errors exit 2 with the usage on stderr", () => {
    it.each([
      [["keys"]],
      [["keys", "create"]],
      [["keys", "create", "--name", "x", "--scope", "root"]],
      [["keys", "create", "--name", "x", "--colour", "red"]],
      [["keys", "revoke"]],
      [["keys", "list", "extra"]],
      [["keys", "rotate"]],
    ])("%j", async (args) => {
      const r = await cli(args, store.env);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("usage: smsc-hub keys");
    });
  });

  describe("embedded database in use", () => {
    it("exits 2 with the lock message", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smsc-hub-keys-"));
      const pgliteDir = path.join(dir, "pglite");
      const db = await createDb({ databaseUrl: undefined, pgliteDir }); // holds the folder, like a running server
      try {
        const r = await cli(["keys", "list"], { PGLITE_DIR: pgliteDir, DATABASE_URL: "" });
        expect(r.code).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toContain("stop the server or set DATABASE_URL");
      } finally {
        await db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
