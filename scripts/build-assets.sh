#!/usr/bin/env bash
# The web pages' front-end libraries (htmx, uPlot, …) from npm, pinned by
# package-lock.json at the repository root, copied into dashboards/static/vendor/
# (git-ignored) by `npm run build`. Installs Debian's nodejs and npm if missing.
# Idempotent: npm ci is skipped while node_modules matches the lockfile.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf 'build-assets: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "installing nodejs and npm (apt)"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y -qq nodejs npm >/dev/null 2>&1; then
    as_root apt-get update -qq >/dev/null
    as_root apt-get install -y -qq nodejs npm >/dev/null
  fi
fi

# npm writes node_modules/.package-lock.json as a copy of what it installed.
installed=$ROOT/node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ "$ROOT/package-lock.json" -nt "$installed" ]; then
  log "installing front-end libraries (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$installed"
fi
(cd "$ROOT" && npm run --silent build)
