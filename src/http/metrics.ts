// Prometheus metrics (prom-client), one registry per app so that several apps in one process (tests) never mix.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class Metrics {
  readonly registry = new Registry();
  readonly callbacks = new Counter({
    name: "smsc_hub_callbacks_total",
    help: "Callback requests by kind and outcome (stored, duplicate, unauthorized, too_large, unavailable)",
    labelNames: ["kind", "outcome"] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({ name: "smsc_hub_callback_duplicates_total", help: "Callbacks already stored (SMSC retries)", registers: [this.registry] });
  readonly parseErrors = new Counter({
    name: "smsc_hub_callback_parse_errors_total",
    help: "Callbacks stored raw because they could not be used, by error code",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });
  readonly signatureFailures = new Counter({
    name: "smsc_hub_signature_failures_total",
    help: "Callbacks whose signature was bad or missing (SMSC_SIGNATURE_MODE log or enforce)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: "smsc_hub_writer_batch_size",
    help: "Callbacks per group-commit transaction",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: "smsc_hub_writer_commit_seconds",
    help: "Time to write and commit one batch",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: "smsc_hub_writer_queue_depth", help: "Callbacks waiting for the writer", registers: [this.registry] });
  readonly queriesInFlight = new Gauge({ name: "smsc_hub_db_queries_in_flight", help: "Database statements and transactions under way", registers: [this.registry] });
  readonly httpSeconds = new Histogram({
    name: "smsc_hub_http_request_duration_seconds",
    help: "HTTP request duration by route",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "smsc_hub_" });
  }
}
