import { describe, expect, it } from "vitest";
import { neutralizeCell } from "../../src/http/csv.js";

describe("neutralizeCell (CSV injection)", () => {
  it.each([
    ["=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"],
    ["-foo", "'-foo"],
    ["+79161234567", "+79161234567"],
    ["-3", "-3"],
    ["SHOP", "SHOP"],
    ["", ""],
  ])("%j → %j", (input, output) => expect(neutralizeCell(input)).toBe(output));

  it("leaves numbers, booleans and nulls alone", () => {
    expect([neutralizeCell(-3), neutralizeCell(true), neutralizeCell(null)]).toEqual([-3, true, null]);
  });
});
