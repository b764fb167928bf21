#!/bin/sh
# `clearwell` as the services run it (installed as /usr/local/bin/clearwell by
# deploy/install.sh): as the clearwell user, with /etc/clearwell/clearwell.env and
# the data directory /var/lib/clearwell. E.g. `sudo clearwell db status`.
set -eu
set -a
. /etc/clearwell/clearwell.env
set +a
export CLEARWELL_DATA_DIR=/var/lib/clearwell
cd /var/lib/clearwell
if [ "$(id -u)" -eq 0 ]; then
    exec runuser -u clearwell -- /opt/clearwell/venv/bin/clearwell "$@"
fi
exec /opt/clearwell/venv/bin/clearwell "$@"
