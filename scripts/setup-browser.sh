#!/usr/bin/env bash
# What the browser tests and the web pages need from outside PyPI:
#   - Debian's chromium (apt), which Playwright drives through executable_path
#     (Playwright's own browser download does not work on this network);
#   - the front-end libraries, built by scripts/build-assets.sh.
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

bash "$ROOT/scripts/build-assets.sh"
