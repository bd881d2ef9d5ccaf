// Process entry: config → db → migrations → app → listen. SIGTERM/SIGINT drain, then close; exit 0.
// Giving up after SHUTDOWN_TIMEOUT_MS exits 1.
import { loadConfig } from "./config.js";
import { DatabaseLockedError } from "./db/client.js";
import { createLogger, errorFields } from "./http/logger.js";
import { startService, StartupRefusedError } from "./server.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  let service;
  try {
    service = await startService(config, logger);
  } catch (err) {
    if (err instanceof DatabaseLockedError) {
      process.stderr.write(`smsc-hub: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof StartupRefusedError) {
      process.stderr.write(`smsc-hub: refusing to start: ${err.message}\n`);
      process.exit(1);
    }
    logger.fatal({ err: errorFields(err) }, "could not start");
    process.exit(1);
  }
  const running = service;
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ timeout_ms: config.shutdownTimeoutMs }, "shutdown timed out; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    running.stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err: { message: (err as Error).message } }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

void main();
