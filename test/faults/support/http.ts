// HTTP clients for the fault tests, all bound in time: fetch for ordinary requests, a raw socket for requests
// that HTTP clients refuse to send (header floods, bytes in the request line, trickled bodies), and a streamed
// upload that never holds its body in memory.
import http from "node:http";
import net from "node:net";
import { Readable } from "node:stream";

export type Answer = { status: number; retryAfter: string | null; contentType: string | null; text: string };

/** A request with fetch; `status` 0 when the connection failed or timed out (`text` then says why). */
export async function request(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Answer> {
  const { timeoutMs = 30_000, ...rest } = init;
  try {
    const res = await fetch(url, { ...rest, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { status: res.status, retryAfter: res.headers.get("retry-after"), contentType: res.headers.get("content-type"), text };
  } catch (err) {
    return { status: 0, retryAfter: null, contentType: null, text: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/** POSTs a callback body; no Content-Type header when `contentType` is null. */
export function postCallback(
  base: string,
  body: string | Uint8Array,
  contentType: string | null = "application/x-www-form-urlencoded",
  query = "",
  path = "/callbacks/smsc",
): Promise<Answer> {
  const headers: Record<string, string> = contentType === null ? {} : { "content-type": contentType };
  return request(`${base}${path}${query ? `?${query}` : ""}`, { method: "POST", headers, body });
}

export type RawAnswer = {
  /** The status code of the first response, or null when the connection closed without one. */
  status: number | null;
  /** The response as received (at most 64 KiB). */
  head: string;
  /** A socket error seen (EPIPE, ECONNRESET), if any. */
  error: string | null;
};

/**
 * Opens a TCP connection, lets `write` send whatever it likes (it may trickle), and collects the answer until the
 * server closes the connection or `timeoutMs` passes. Send `Connection: close` so that the server closes after
 * answering.
 */
export function rawExchange(port: number, write: (socket: net.Socket) => Promise<void> | void, timeoutMs = 15_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = "";
    let error: string | null = null;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({ status: m ? Number(m[1]) : null, head: data, error });
    };
    const timer = setTimeout(() => {
      error ??= "timeout";
      finish();
    }, timeoutMs);
    socket.on("data", (d: Buffer) => {
      if (data.length < 65536) data += d.toString("latin1");
    });
    socket.on("error", (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
    });
    socket.on("close", finish);
    socket.once("connect", () => {
      Promise.resolve()
        .then(() => write(socket))
        .catch((e: unknown) => {
          error ??= (e as Error).message;
        });
    });
  });
}

/** Writes to a socket and waits for the write to be flushed (or fail). Never throws. */
export function writeAll(socket: net.Socket, bytes: string | Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed || !socket.writable) return resolve(false);
    socket.write(bytes, (err) => resolve(!err));
  });
}

export type StreamedAnswer = { status: number | null; error: string | null; bytesOffered: number; ms: number };

/**
 * Uploads `totalBytes` of `fill` in `chunkBytes` pieces from a generator (never held in memory as a whole), with
 * or without a declared Content-Length. Resolves at the first answer or connection error; stops streaming then.
 */
export function streamUpload(
  port: number,
  path: string,
  options: { totalBytes: number; chunkBytes?: number; declareLength: boolean; contentType: string; fill?: number | ((chunkIndex: number) => Uint8Array); timeoutMs?: number },
): Promise<StreamedAnswer> {
  const { totalBytes, chunkBytes = 64 * 1024, declareLength, contentType, fill = 0x61, timeoutMs = 60_000 } = options;
  const started = Date.now();
  let offered = 0;
  const fixed = typeof fill === "number" ? new Uint8Array(chunkBytes).fill(fill) : null;
  const maxChunks = Math.ceil(totalBytes / chunkBytes);
  async function* generate() {
    for (let i = 0; i < maxChunks && offered < totalBytes; i++) {
      const piece = fixed ?? (fill as (chunkIndex: number) => Uint8Array)(i);
      const take = Math.min(piece.length, totalBytes - offered);
      offered += take;
      yield take === piece.length ? piece : piece.subarray(0, take);
    }
  }
  return new Promise((resolve) => {
    let settled = false;
    const headers: Record<string, string | number> = { "content-type": contentType, connection: "close" };
    if (declareLength) headers["content-length"] = totalBytes;
    const req = http.request({ host: "127.0.0.1", port, path, method: "POST", headers, agent: false });
    const body = Readable.from(generate(), { objectMode: false });
    const finish = (status: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      body.unpipe(req);
      body.destroy();
      req.destroy();
      resolve({ status, error, bytesOffered: offered, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(null, "timeout"), timeoutMs);
    req.on("response", (res) => {
      res.resume();
      finish(res.statusCode ?? null, null);
    });
    req.on("error", (e: NodeJS.ErrnoException) => finish(null, e.code ?? e.message));
    body.pipe(req);
  });
}

/** The body of an ordinary delivery-status callback. */
export function statusBody(id: string, phone: string, status = 1, err = 0, ts = 1717585400): string {
  return `id=${id}&phone=${phone}&status=${status}&err=${err}&ts=${ts}&type=0`;
}

/**
 * Legitimate callbacks sent while something hostile happens: each must get 200, and every one must be stored.
 * Ids are unique per sender (prefix), phones are valid Russian mobiles.
 */
export class LegitSender {
  private n = 0;
  readonly answers: { id: string; status: number; text: string }[] = [];
  constructor(
    private readonly base: string,
    private readonly prefix = "LEGIT",
  ) {}

  async send(): Promise<number> {
    const n = this.n++;
    const id = `${this.prefix}${n}`;
    const phone = `7916${String(1000000 + (n % 9000000)).padStart(7, "0")}`;
    const a = await postCallback(this.base, statusBody(id, phone, 1, 0, 1717585400 + n));
    this.answers.push({ id, status: a.status, text: a.text });
    return a.status;
  }

  /** Sends one callback every `everyMs` while `running()` holds, at most `max` of them. */
  async keepSending(running: () => boolean, everyMs = 50, max = 2000): Promise<void> {
    for (let i = 0; i < max && running(); i++) {
      await this.send();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  get acknowledged(): string[] {
    return this.answers.filter((a) => a.status === 200).map((a) => a.id);
  }

  get failures(): { id: string; status: number; text: string }[] {
    return this.answers.filter((a) => a.status !== 200);
  }
}
