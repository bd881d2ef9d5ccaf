// A TCP proxy that delays every chunk by an adjustable number of milliseconds in each direction, keeping the order
// of the bytes: a database that is slower than the input without being down. `setDelay(0)` makes it fast again.
import net from "node:net";

export type LatencyProxy = { port: number; setDelay: (ms: number) => void; close: () => Promise<void> };

function delayedPipe(from: net.Socket, to: net.Socket, delay: () => number): void {
  const queue: { due: number; chunk: Buffer }[] = [];
  let timer: NodeJS.Timeout | null = null;
  let ended = false;
  const pump = () => {
    timer = null;
    const now = Date.now();
    while (queue.length > 0 && queue[0]!.due <= now) to.write(queue.shift()!.chunk);
    if (queue.length > 0) timer = setTimeout(pump, queue[0]!.due - now);
    else if (ended) to.end();
  };
  from.on("data", (chunk: Buffer) => {
    const d = delay();
    if (d <= 0 && queue.length === 0) {
      to.write(chunk);
      return;
    }
    queue.push({ due: Date.now() + d, chunk });
    timer ??= setTimeout(pump, Math.max(0, queue[0]!.due - Date.now()));
  });
  from.on("end", () => {
    ended = true;
    if (queue.length === 0 && timer === null) to.end();
  });
  from.on("close", () => {
    if (timer) clearTimeout(timer);
    queue.length = 0;
  });
}

export async function startLatencyProxy(targetHost: string, targetPort: number): Promise<LatencyProxy> {
  let delayMs = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    delayedPipe(client, upstream, () => delayMs);
    delayedPipe(upstream, client, () => delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
