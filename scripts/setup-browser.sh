#!/usr/bin/env bash
# What the browser tests and the web pages need from outside PyPI:
#   - Debian's chromium (apt), which Playwright drives through executable_path
#     (Playwright's own browser download does not work on this network);
#   - the front-end libraries (htmx, uPlot) from npm, pinned by package-lock.json
#     at the repository root, copied into dashboards/static/vendor/ (git-ignored).
# Idempotent: a second run only checks and exits.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf 'setup-browser: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1; then
  log "installing chromium (apt)"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y -qq chromium >/dev/null 2>&1; then
    as_root apt-get update -qq >/dev/null
    as_root apt-get install -y -qq chromium >/dev/null
  fi
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "node and npm are needed to build the front-end libraries; install nodejs and npm"
  exit 1
fi

# npm ci is skipped while the installed tree matches the lockfile: npm writes
# node_modules/.package-lock.json as a copy of what it installed.
installed=$ROOT/node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ "$ROOT/package-lock.json" -nt "$installed" ]; then
  log "installing front-end libraries (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$installed"
fi
(cd "$ROOT" && npm run --silent build)
