// `npm start`: builds dist/ when it is missing or older than src/, then runs the service.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const entry = path.join(root, "dist", "main.js");

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

const stale = !fs.existsSync(entry) || newestMtime(path.join(root, "src")) > fs.statSync(entry).mtimeMs;
if (stale) {
  process.stderr.write("smsc-hub: building dist/ ...\n");
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { stdio: "inherit" });
  fs.utimesSync(entry, new Date(), new Date());
}
// npm runs this through `sh -c`, and Debian's sh (dash) does not pass on a SIGTERM sent to npm: npm and the shell
// exit, and the service would run on, orphaned, holding its port and the embedded database's lock. So when the
// parent goes away, the service stops as if it had been sent SIGTERM itself.
const parent = process.ppid;
const orphaned = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(orphaned);
  process.kill(process.pid, "SIGTERM");
}, 500);
orphaned.unref();
await import(entry);
