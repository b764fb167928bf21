#!/usr/bin/env bash
# Installs the third-party clients and servers the tests run, from outside PyPI:
#   - Debian's mbpoll (a Modbus master) via apt-get, which the simulator tests drive;
#   - Debian's libmodbus-dev via apt-get, and the small Modbus TCP server on it that the
#     collector tests run (tests/tools/modbus-server/server.c), built into
#     build/test-tools/ (ignored by git);
#   - Debian's poppler-utils (pdftoppm, which renders the exports' PDF pages to images)
#     via apt-get;
#   - node-opcua (an OPC UA stack that is not asyncua) via `npm ci` in
#     tests/tools/opcua-client/ (a client, for the simulator tests) and
#     tests/tools/opcua-server/ (a server, for the collector tests), each pinned by its
#     package-lock.json.
# Idempotent and quiet: when everything is already there it only checks and exits.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODE_DIRS=("$ROOT/tests/tools/opcua-client" "$ROOT/tests/tools/opcua-server")
MODBUS_SERVER=$ROOT/build/test-tools/modbus-server
MODBUS_SOURCE=$ROOT/tests/tools/modbus-server

log() { printf 'setup-test-tools: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  log "installing $* (apt)"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y -qq "$@" >/dev/null 2>&1; then
    as_root apt-get update -qq >/dev/null
    as_root apt-get install -y -qq "$@" >/dev/null
  fi
}

if ! command -v mbpoll >/dev/null 2>&1; then
  apt_install mbpoll
fi
if ! pkg-config --exists libmodbus 2>/dev/null || ! command -v cc >/dev/null 2>&1; then
  apt_install libmodbus-dev pkg-config gcc
fi
if [ ! -x "$MODBUS_SERVER" ] || [ "$MODBUS_SOURCE/server.c" -nt "$MODBUS_SERVER" ]; then
  log "building the libmodbus test server into build/test-tools/"
  "$MODBUS_SOURCE/build.sh" "$MODBUS_SERVER"
fi
if ! command -v pdftoppm >/dev/null 2>&1; then
  apt_install poppler-utils
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "node and npm are needed for the OPC UA client tests; install nodejs and npm"
  exit 1
fi

# npm ci is skipped while the installed tree matches the lockfile: npm writes
# node_modules/.package-lock.json as a copy of what it installed.
for dir in "${NODE_DIRS[@]}"; do
  installed=$dir/node_modules/.package-lock.json
  if [ ! -f "$installed" ] || [ "$dir/package-lock.json" -nt "$installed" ] \
    || [ ! -d "$dir/node_modules/node-opcua" ]; then
    log "installing node-opcua (npm ci in tests/tools/$(basename "$dir"))"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$installed"
  fi
done
