// Splits a stream of bytes into lines: LF ends a line, one CR before it is dropped (a lone CR is not a line end),
// and each line is decoded as UTF-8, else windows-1251. A line longer than `maxBytes` is reported, not kept, so one
// endless line cannot exhaust memory. Pending pieces are joined once per line, never re-joined per chunk.
import { decodeText } from "./text-decode.js";

export type Line = { ok: true; text: string } | { ok: false; bytes: number };

function join(pieces: Uint8Array[], length: number): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function* splitLines(chunks: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Line> {
  let pieces: Uint8Array[] = [];
  let length = 0;
  let overflow = false;
  const finish = (): Line => {
    let bytes = join(pieces, length);
    if (!overflow && bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
    const line: Line = overflow ? { ok: false, bytes: length } : { ok: true, text: decodeText(bytes) };
    pieces = [];
    length = 0;
    overflow = false;
    return line;
  };
  const take = (part: Uint8Array) => {
    length += part.length;
    if (overflow) return;
    if (length > maxBytes + 1) {
      overflow = true; // keep counting, stop keeping
      pieces = [];
    } else if (part.length > 0) pieces.push(part);
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, start)) {
      take(chunk.subarray(start, i));
      yield finish();
      start = i + 1;
    }
    // Copy the rest: the producer may reuse its buffer.
    if (start < chunk.length) take(chunk.slice(start));
  }
  if (length > 0 || pieces.length > 0) yield finish();
}
