#!/usr/bin/env bash
# build.sh [OUT]: compiles the libmodbus test server (server.c) against Debian's
# libmodbus-dev, into OUT (default: build/test-tools/modbus-server at the repository root,
# which git ignores). scripts/setup-test-tools.sh installs libmodbus-dev and runs this.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here/../../../build/test-tools/modbus-server}
mkdir -p "$(dirname "$out")"
# shellcheck disable=SC2046  # pkg-config's flags are separate words
cc -O2 -Wall -Wextra -o "$out.tmp" "$here/server.c" $(pkg-config --cflags --libs libmodbus)
mv "$out.tmp" "$out"
