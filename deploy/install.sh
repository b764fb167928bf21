#!/bin/sh
# Installs Clearwell as services on a Debian 12 machine, as root, from this checkout:
#
#   sudo deploy/install.sh [--prefix /opt/clearwell] [--destdir DIR]
#
# - the `clearwell` system user (no login, home /var/lib/clearwell);
# - a virtualenv in PREFIX/venv with Clearwell installed into it (the front-end
#   libraries built first by scripts/build-assets.sh), and
#   PostgreSQL's client tools for `clearwell backup` (postgresql-client-15);
# - /etc/clearwell/clearwell.env (root:clearwell 0640) from deploy/clearwell.env.example,
#   unless there is one already;
# - the systemd units of deploy/systemd/ in /etc/systemd/system with PREFIX in their
#   paths; clearwell-web.service and clearwell-stamp.timer enabled (not started);
# - /usr/local/bin/clearwell, the command as the services run it (deploy/clearwell.sh),
#   and /var/backups/clearwell, owned by clearwell, for `clearwell backup`.
#
# Run again after pulling a new release: the venv is updated, the settings are kept.
# With --destdir DIR, only the files are laid out under DIR (no user, packages, venv or
# systemctl): what the tests check with systemd-analyze verify.
set -eu

prefix=/opt/clearwell
destdir=
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --destdir) destdir=$2; shift 2 ;;
        *) echo "usage: $0 [--prefix DIR] [--destdir DIR]" >&2; exit 2 ;;
    esac
done
case "$prefix" in /*) ;; *) echo "$0: --prefix must be an absolute path" >&2; exit 2 ;; esac
repo=$(cd "$(dirname "$0")/.." && pwd)
units="$destdir/etc/systemd/system"
config="$destdir/etc/clearwell"

if [ -z "$destdir" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "$0: run as root (it adds a user, packages and systemd units)" >&2
        exit 1
    fi
    apt-get install -y --no-install-recommends python3 python3-venv postgresql-client-15
    if ! id clearwell >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/clearwell --no-create-home \
            --shell /usr/sbin/nologin --user-group clearwell
    fi
    # The pages' front-end libraries, which the package takes from dashboards/static/vendor/.
    bash "$repo/scripts/build-assets.sh"
    python3 -m venv "$prefix/venv"
    "$prefix/venv/bin/pip" install --quiet --upgrade "$repo"
    install -m 0644 "$repo/README.md" "$prefix/README.md"
fi

install -d -m 0750 "$config"
if [ ! -e "$config/clearwell.env" ]; then
    install -m 0640 "$repo/deploy/clearwell.env.example" "$config/clearwell.env"
    [ -n "$destdir" ] || chgrp clearwell "$config/clearwell.env"
    echo "wrote $config/clearwell.env: check CLEARWELL_DATABASE_URL there"
fi
[ -n "$destdir" ] || chgrp clearwell "$config"

install -d -m 0755 "$units"
for unit in "$repo"/deploy/systemd/*; do
    sed "s|/opt/clearwell|$prefix|g" "$unit" > "$units/$(basename "$unit")"
    chmod 0644 "$units/$(basename "$unit")"
done

install -d -m 0755 "$destdir/usr/local/bin"
sed "s|/opt/clearwell|$prefix|g" "$repo/deploy/clearwell.sh" > "$destdir/usr/local/bin/clearwell"
chmod 0755 "$destdir/usr/local/bin/clearwell"

if [ -z "$destdir" ]; then
    install -d -m 0750 -o clearwell -g clearwell /var/lib/clearwell /var/lib/clearwell/sites \
        /var/backups/clearwell
    systemctl daemon-reload
    systemctl enable clearwell-web.service clearwell-stamp.timer
    cat <<NEXT
Installed. Next:
  1. the database: createuser clearwell; createdb -O clearwell clearwell (as postgres),
     with TimescaleDB in shared_preload_libraries and CREATE EXTENSION timescaledb in it
  2. clearwell db status; clearwell db migrate
  3. the site file in /var/lib/clearwell/sites/CODE.yaml, then
     systemctl enable --now clearwell-ingest@CODE
  4. systemctl start clearwell-web clearwell-stamp.timer; journalctl -u 'clearwell*' -f
NEXT
fi
