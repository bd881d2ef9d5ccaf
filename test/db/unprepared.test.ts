// Statements planned afresh (`prepare: false`) go out at once, with the parameter types inferred from the values
// (patches/postgres: no describe round trip first). Every kind of value the queries pass must arrive intact, an
// error must stay with its own statement (a server error, and a value that cannot be sent at all, which without the
// patch's second part wedged the connection), and statements pipelined in one transaction must all run. The round
// trip the patch saves is measured by the writer timings in the README, not here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arrayParam } from "../../src/db/client.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";

describe("unprepared statements", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.drop();
  });

  it("take strings, numbers, booleans, Dates, nulls and JSON text", async () => {
    const at = new Date("2026-11-20T10:00:07.123Z");
    const [row] = await t.db.query<Record<string, unknown>>(
      `SELECT $1::text AS s, $2::int + 1 AS n, $3::numeric AS dec, $4::boolean AS b, $5::timestamptz AS at,
              $6::text IS NULL AS nul, ($7::text::json)->>'k' AS j, cardinality($8::bigint[]) AS arr`,
      ["кириллица 'quoted'", 41, "3.45", true, at, null, JSON.stringify({ k: "v" }), arrayParam([1, 2, 3])],
      { prepare: false },
    );
    expect({ ...row, n: Number(row!.n), arr: Number(row!.arr), at: new Date(row!.at as string).toISOString() }).toEqual({
      s: "кириллица 'quoted'",
      n: 42,
      dec: "3.45",
      b: true,
      at: at.toISOString(),
      nul: true,
      j: "v",
      arr: 3,
    });
  });

  it("report their own error and leave the connection usable", async () => {
    await expect(t.db.query("SELECT $1::int AS n", ["not a number"], { prepare: false })).rejects.toThrow(/integer/);
    const [row] = await t.db.query<{ n: number }>("SELECT $1::int AS n", ["7"], { prepare: false });
    expect(Number(row!.n)).toBe(7);
  });

  it("a value that cannot be sent fails its own statement only, in the middle of a pipeline on one connection", async () => {
    const one = await createTestDatabase({ poolSize: 1 });
    try {
      const at = (v: Date) => one.db.query<{ t: string }>("SELECT $1::timestamptz::text AS t", [v], { prepare: false });
      const settled = await Promise.race([
        Promise.allSettled([at(new Date(0)), at(new Date("not a date")), at(new Date(86_400_000))]),
        new Promise<"stuck">((resolve) => setTimeout(() => resolve("stuck"), 5_000)),
      ]);
      expect(settled).not.toBe("stuck");
      expect((settled as PromiseSettledResult<unknown>[]).map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      // The connection is still usable.
      expect((await one.db.query<{ n: number }>("SELECT 1 AS n"))[0]!.n).toBe(1);
    } finally {
      await one.drop();
    }
  });

  it("pipelined in one transaction, all run in order", async () => {
    await t.db.exec("CREATE TABLE unprepared_probe (id int PRIMARY KEY, v text)");
    await t.db.transaction(async (tx) => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => tx.query("INSERT INTO unprepared_probe (id, v) VALUES ($1::int, $2)", [i, `v${i}`], { prepare: i % 2 === 0 })),
      );
      const rows = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM unprepared_probe WHERE id = ANY($1::int[])", [arrayParam([0, 1, 19])], { prepare: false });
      expect(Number(rows[0]!.n)).toBe(3);
    });
    const [row] = await t.db.query<{ n: number; last: string }>("SELECT count(*)::int AS n, max(v) FILTER (WHERE id = 19) AS last FROM unprepared_probe");
    expect({ n: Number(row!.n), last: row!.last }).toEqual({ n: 20, last: "v19" });
  });
});
