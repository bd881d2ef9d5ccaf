// RETENTION_DAYS: a background sweep removes raw callbacks and status events older than that, in small batches with
// a pause between them, so ingest keeps its share of the database. It runs at start and then every hour.
import type { Database } from "../db/client.js";
import { deleteOlderThan, RETAINED_TABLES } from "../db/queries/retention.js";

const DAY_MS = 86_400_000;

export type RetentionOptions = { days: number; batch?: number; intervalMs?: number; clock?: () => Date; onSweep?: (removed: Record<string, number>) => void; onError?: (err: unknown) => void };

/** One sweep: removes everything older than the cutoff, batch by batch. Returns the rows removed per table. */
export async function sweepRetention(db: Database, options: RetentionOptions): Promise<Record<string, number>> {
  const now = (options.clock ?? (() => new Date()))();
  const cutoff = new Date(now.getTime() - options.days * DAY_MS);
  const removed: Record<string, number> = {};
  for (const table of Object.keys(RETAINED_TABLES) as (keyof typeof RETAINED_TABLES)[]) {
    removed[table] = 0;
    for (;;) {
      const n = await deleteOlderThan(db, table, cutoff, options.batch ?? 1000);
      removed[table] += n;
      if (n < (options.batch ?? 1000)) break;
      await new Promise((r) => setTimeout(r, 10)); // let ingest in between
    }
  }
  return removed;
}

export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly db: Database,
    private readonly options: RetentionOptions,
  ) {}

  start(): void {
    const run = () => {
      if (this.running) return;
      this.running = sweepRetention(this.db, this.options)
        .then((removed) => this.options.onSweep?.(removed), (err) => this.options.onError?.(err))
        .finally(() => (this.running = null));
    };
    run();
    this.timer = setInterval(run, this.options.intervalMs ?? 3_600_000);
    this.timer.unref();
  }

  /** Stops the schedule and waits for a sweep under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
