// arrayParam: a list passed as one parameter arrives as the same list, whatever its strings hold.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arrayParam } from "../../src/db/client.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

describe("arrayParam", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.drop();
  });

  it("round-trips strings with quotes, backslashes, commas, braces, spaces and the word NULL", async () => {
    const values = ["79161234567", 'say "hi"', "back\\slash", "a,b", "{x}", "NULL", " padded ", "", "кириллица"];
    const [row] = await t.db.query<{ v: string[] }>("SELECT $1::text[] AS v", [arrayParam(values)]);
    expect(row!.v).toEqual(values);
  });

  it("passes numbers as bigints, planned afresh or prepared", async () => {
    for (const prepare of [true, false]) {
      const [row] = await t.db.query<{ n: string }>("SELECT array_length($1::bigint[], 1)::text || ':' || ($1::bigint[])[3]::text AS n", [arrayParam([1, 2, 9007199254740991])], { prepare });
      expect(row!.n).toBe("3:9007199254740991");
    }
  });

  it("drops repeated values (it is meant for = ANY)", async () => {
    const [row] = await t.db.query<{ v: string[] }>("SELECT $1::text[] AS v", [arrayParam(["b", "a", "b", "a"])]);
    expect(row!.v).toEqual(["b", "a"]);
  });

  it("passes an empty list", async () => {
    const [row] = await t.db.query<{ n: number }>("SELECT cardinality($1::text[]) AS n", [arrayParam([])]);
    expect(Number(row!.n)).toBe(0);
  });
});
