#!/usr/bin/env bash
# Installs the third-party tools the tests drive, from outside PyPI:
#   - Debian's mbpoll (a Modbus master) via apt-get;
#   - Debian's poppler-utils (pdftoppm, which renders the exports' PDF pages to images) via
#     apt-get;
#   - node-opcua (an OPC UA stack that is not asyncua) via `npm ci` in
#     tests/tools/opcua-client/, pinned by its package-lock.json.
# Idempotent and quiet: when all are already there it only checks and exits.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLIENT_DIR=$ROOT/tests/tools/opcua-client

log() { printf 'setup-test-tools: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {  # apt_install PACKAGE: install it, updating the package lists if needed
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y -qq "$1" >/dev/null 2>&1; then
    as_root apt-get update -qq >/dev/null
    as_root apt-get install -y -qq "$1" >/dev/null
  fi
}

if ! command -v mbpoll >/dev/null 2>&1; then
  log "installing mbpoll (apt)"
  apt_install mbpoll
fi

if ! command -v pdftoppm >/dev/null 2>&1; then
  log "installing poppler-utils (apt): pdftoppm"
  apt_install poppler-utils
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "node and npm are needed for the OPC UA client tests; install nodejs and npm"
  exit 1
fi

# npm ci is skipped while the installed tree matches the lockfile: npm writes
# node_modules/.package-lock.json as a copy of what it installed.
installed=$CLIENT_DIR/node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ "$CLIENT_DIR/package-lock.json" -nt "$installed" ] \
  || [ ! -d "$CLIENT_DIR/node_modules/node-opcua" ]; then
  log "installing node-opcua (npm ci in tests/tools/opcua-client)"
  (cd "$CLIENT_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$installed"
fi
