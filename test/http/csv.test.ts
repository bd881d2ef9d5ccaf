import { describe, expect, it } from "vitest";
import { stringify } from "csv-stringify/sync";
import { csvLine, neutralizeCell } from "../../src/http/csv.js";

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

describe("csvLine", () => {
  const cells = ["plain", "a,b", "semi;colon", 'say "hi"', "two\nlines", "cr\rhere", "=1+2", "+79161234567", "-x", "", "ёлка"];

  it.each([",", ";"])("writes what csv-stringify writes (a lone CR quoted too), cells neutralized (delimiter %j)", (delimiter) => {
    const expected = stringify([cells.map((c) => neutralizeCell(c))], { delimiter, record_delimiter: "\n", quoted_match: /\r/ }).replace(/\n$/, "");
    expect(csvLine(cells, delimiter)).toBe(expected);
  });

  it("quotes a cell only when it must", () => {
    expect(csvLine(["a", "b;c"], ",")).toBe("a,b;c");
    expect(csvLine(["a", "b;c"], ";")).toBe('a;"b;c"');
    expect(csvLine(["x"], ",")).toBe("x");
  });
});
