// `npm start`: builds dist/ when it is missing or older than src/, then runs the service.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { distIsStale, entry, root } from "./dist.mjs";

// `npm start` runs this through `sh -c`, and Debian's sh (dash) does not pass on a SIGTERM sent to npm: npm and the
// shell exit, and the service would run on, orphaned, holding its port and the embedded database's lock. So under
// npm, when the parent goes away (even during the build), the service stops as if it had been sent SIGTERM itself,
// once it listens for it (until then, SIGTERM's default would kill it mid-start, perhaps mid-migration). Run
// directly (`node scripts/start.mjs`, `nohup`), it is left alone.
if (process.env.npm_lifecycle_event === "start") {
  const parent = process.ppid;
  const orphaned = setInterval(() => {
    if (process.ppid === parent || process.listenerCount("SIGTERM") === 0) return;
    clearInterval(orphaned);
    process.kill(process.pid, "SIGTERM");
  }, 500);
  orphaned.unref();
}
if (distIsStale()) {
  process.stderr.write("smsc-hub: building dist/ ...\n");
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { stdio: "inherit" });
  fs.utimesSync(entry, new Date(), new Date());
}
await import(entry);
