// A TCP proxy the test controls, between the service and Postgres:
// - `cut()` drops every connection and refuses new ones (the database "goes away"); `restore()` lets them through;
// - `setDelay(ms)` delays every chunk by that many milliseconds in each direction, keeping the order of the bytes
//   (a database slower than the input without being down); `setDelay(0)` makes it fast again.
import net from "node:net";

export type TcpProxy = { port: number; cut: () => void; restore: () => void; setDelay: (ms: number) => void; close: () => Promise<void> };

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

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let up = true;
  let delayMs = 0;
  const sockets = new Set<net.Socket>();
  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };
  const server = net.createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
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
    cut: () => {
      up = false;
      dropAll();
    },
    restore: () => {
      up = true;
    },
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        up = false;
        dropAll();
        server.close(() => resolve());
      }),
  };
}
