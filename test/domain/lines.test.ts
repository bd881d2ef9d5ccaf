import { describe, expect, it } from "vitest";
import { splitLines, type Line } from "../../src/domain/lines.js";

async function* from(...chunks: (string | number[])[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield typeof c === "string" ? new TextEncoder().encode(c) : new Uint8Array(c);
}

async function collect(chunks: AsyncIterable<Uint8Array>, max = 1024): Promise<Line[]> {
  const out: Line[] = [];
  for await (const l of splitLines(chunks, max)) out.push(l);
  return out;
}

const texts = (lines: Line[]) => lines.map((l) => (l.ok ? l.text : `<too long: ${l.bytes}>`));

describe("splitLines", () => {
  it("splits on LF, drops one CR before it, keeps a lone CR inside the line", async () => {
    expect(texts(await collect(from("a\r\nb\rc\n\r\nd")))).toEqual(["a", "b\rc", "", "d"]);
  });

  it("joins lines split across chunks, byte by byte too", async () => {
    const text = "id:1 stat:DELIVRD\nid:2 stat:UNDELIV\n";
    expect(texts(await collect(from(...[...text].map((ch) => ch))))).toEqual(["id:1 stat:DELIVRD", "id:2 stat:UNDELIV"]);
  });

  it("decodes each line as UTF-8, else windows-1251", async () => {
    const cp1251Stop = [0xd1, 0xd2, 0xce, 0xcf, 10];
    expect(texts(await collect(from("СТОП\n", cp1251Stop)))).toEqual(["СТОП", "СТОП"]);
  });

  it("reports a line over the limit with its length, and goes on with the next", async () => {
    const long = "x".repeat(5000);
    expect(texts(await collect(from(long.slice(0, 2000), long.slice(2000), "\nok\n"), 1024))).toEqual(["<too long: 5000>", "ok"]);
  });

  it("yields nothing for an empty stream and no extra line after a final LF", async () => {
    expect(await collect(from())).toEqual([]);
    expect(texts(await collect(from("a\n")))).toEqual(["a"]);
  });
});
