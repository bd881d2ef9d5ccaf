// postgres.js finds a prepared statement by its signature: the parameter types inferred from the values, then the
// text. patches/postgres keeps one signature string per (types, text) instead of making a new one on every call
// (hashing a 3 KB statement on every number lookup). That must not change which statement a call gets: the same
// text with other types is another statement. Needs a server: the embedded database does not use postgres.js.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServerTestDatabase, type TestDatabase } from "../helpers/db.js";

describe("prepared statements (postgres.js, patched)", () => {
  let t: TestDatabase;
  let db: TestDatabase["db"];

  beforeAll(async () => {
    t = await createServerTestDatabase({ poolSize: 1 });
    db = t.db;
  });

  afterAll(async () => {
    await t?.drop();
  });

  const TEXT = "SELECT $1::text AS v";
  const value = async (param: unknown) => (await db.query<{ v: string }>(TEXT, [param]))[0]!.v;

  it("prepare a text once per set of parameter types, and give each call its own types' statement", async () => {
    // A boolean goes out typed (bool) and reads back as 'true'; a string goes out untyped and stays as written.
    const answers = [];
    for (const param of [true, "x", true, "y", false, "z"]) answers.push(await value(param));
    expect(answers).toEqual(["true", "x", "true", "y", "false", "z"]);

    const prepared = await db.query<{ types: string }>(
      "SELECT parameter_types::text AS types FROM pg_prepared_statements WHERE statement = $1 ORDER BY 1",
      [TEXT],
    );
    expect(prepared.map((p) => p.types)).toEqual(["{boolean}", "{text}"]);
  });
});
