// postgres.js keeps its connections in queues (open, busy, …) and, under steady load, takes a busy connection off the
// front and puts it back at the end for every statement. Unpatched, every such turn left a hole in the queue's array,
// which then grew by one slot per statement for as long as the load lasted, and every statement searched it from the
// start (Array#indexOf over tens of thousands of slots; 4% of a number lookup's CPU after ten seconds).
// patches/postgres makes the search start at the front and drops the holes once they are half the array.
import path from "node:path";
import { describe, expect, it } from "vitest";

type Queue<T> = { readonly length: number; push(x: T): T; shift(): T; remove(x: T): T | null };
const queuePath = path.resolve(import.meta.dirname, "../../node_modules/postgres/src/queue.js");
const { default: Queue } = (await import(queuePath)) as { default: <T>(initial?: T[]) => Queue<T> };

/** Runs `fn` and returns the length of every array Array#indexOf searched meanwhile. */
function searchedLengths(fn: () => void): number[] {
  const original = Array.prototype.indexOf;
  const lengths: number[] = [];
  Array.prototype.indexOf = function (this: unknown[], ...args: Parameters<typeof original>) {
    lengths.push(this.length);
    return original.apply(this, args);
  };
  try {
    fn();
  } finally {
    Array.prototype.indexOf = original;
  }
  return lengths;
}

describe("postgres.js's queue (patched)", () => {
  it("stays small when items go round and round, as busy connections do", () => {
    const busy = Queue<string>(["a", "b"]);
    const order: string[] = [];
    const lengths = searchedLengths(() => {
      for (let i = 0; i < 50_000; i++) {
        const c = busy.shift(); // what postgres.js does per statement: go(busy.shift(), query) …
        busy.remove(c); // … then move(c, busy): take it off its queue (it is no longer there) …
        busy.push(c); // … and put it at the end
        order.push(c);
      }
    });
    expect(order.slice(0, 4)).toEqual(["a", "b", "a", "b"]);
    expect(order.filter((c) => c === "a")).toHaveLength(25_000);
    expect(busy.length).toBe(2);
    expect(lengths).toHaveLength(50_000);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(2 * 1024 + 2);
  });

  it("still hands items out first in, first out, and removes the ones it holds", () => {
    const q = Queue<number>();
    for (let i = 0; i < 5000; i++) q.push(i);
    const out: number[] = [];
    for (let i = 0; i < 3000; i++) out.push(q.shift());
    expect(out[0]).toBe(0);
    expect(out[2999]).toBe(2999);
    expect(q.length).toBe(2000);
    expect(q.remove(1500)).toBeNull(); // already handed out
    expect(q.remove(4000)).toBe(4000);
    expect(q.length).toBe(1999);
    const rest: number[] = [];
    while (q.length > 0) rest.push(q.shift());
    expect(rest).toHaveLength(1999);
    expect(rest[0]).toBe(3000);
    expect(rest.includes(4000)).toBe(false);
    expect(rest[rest.length - 1]).toBe(4999);
    q.push(7);
    expect(q.shift()).toBe(7);
    expect(q.length).toBe(0);
  });
});
