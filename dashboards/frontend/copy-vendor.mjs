// Copies the front-end files the pages load from node_modules (installed by
// `npm ci` from the root package-lock.json) into dashboards/static/vendor/,
// which is git-ignored: third-party code is never committed.
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const target = join(root, "dashboards", "static", "vendor");

// Keep in step with dashboards/assets.py (VENDOR_FILES).
const files = {
  "htmx.min.js": "node_modules/htmx.org/dist/htmx.min.js",
  "uPlot.iife.min.js": "node_modules/uplot/dist/uPlot.iife.min.js",
  "uPlot.min.css": "node_modules/uplot/dist/uPlot.min.css",
};

mkdirSync(target, { recursive: true });
let missing = 0;
for (const [name, from] of Object.entries(files)) {
  const source = join(root, from);
  if (!existsSync(source)) {
    console.error(`copy-vendor: ${from} is missing; run npm ci at the repository root first`);
    missing += 1;
    continue;
  }
  copyFileSync(source, join(target, name));
}
if (missing) process.exit(1);
console.error(`copy-vendor: ${Object.keys(files).length} files in dashboards/static/vendor/`);
