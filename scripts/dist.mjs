// The built service: where it is, and whether it is older than its sources (what `npm start` rebuilds, and what
// the npm start test refuses to run on).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const entry = path.join(root, "dist", "main.js");

function newestMtime(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** True when dist/main.js is missing or older than a file under src/. */
export function distIsStale() {
  return !fs.existsSync(entry) || newestMtime(path.join(root, "src")) > fs.statSync(entry).mtimeMs;
}
