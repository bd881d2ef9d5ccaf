// `replay [--since T]`: re-derives everything from the stored raw callbacks with today's code and configuration
// (after a parser or rule fix, or an IVR_FIELD_MAP change). Prints a JSON summary on standard output.
import { loadConfig, type Config } from "../config.js";
import { parseMaxAge } from "../domain/verdict.js";
import { replay } from "../ingest/replay.js";
import { withCliDatabase, type OpenDb } from "./database.js";

export type ReplayIo = { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; openDb?: OpenDb; config?: Config; now?: () => Date };

const USAGE = "usage: smsc-hub replay [--since <RFC 3339 time, or <n>h, <n>d, <n>w ago>]\n";

export async function runReplay(args: readonly string[], io: ReplayIo): Promise<number> {
  let since: Date | null = null;
  const now = io.now ?? (() => new Date());
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--since" && args[i + 1] !== undefined) {
      const value = args[++i]!;
      const agoMs = parseMaxAge(value);
      const at = agoMs !== null ? new Date(now().getTime() - agoMs) : new Date(value);
      if (Number.isNaN(at.getTime()) || (agoMs === null && !/^\d{4}-\d{2}-\d{2}T/.test(value))) {
        io.stderr.write(`smsc-hub replay: --since takes an RFC 3339 time or <n>h/<n>d/<n>w, not "${value}"\n${USAGE}`);
        return 2;
      }
      since = at;
    } else {
      io.stderr.write(`smsc-hub replay: unexpected "${arg}"\n${USAGE}`);
      return 2;
    }
  }
  const config = io.config ?? loadConfig();
  return withCliDatabase(
    io.stderr,
    async (db) => {
      const result = await replay(db, config, {
        since,
        clock: now,
        onProgress: (r) => io.stderr.write(`replay: ${r.scanned} callbacks read, ${r.reclassified} reclassified\n`),
      });
      io.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    },
    io.openDb,
  );
}
