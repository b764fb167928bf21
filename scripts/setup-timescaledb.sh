#!/usr/bin/env bash
# Installs PostgreSQL 15 and TimescaleDB (Apache edition, built from Debian 13's
# source package) on Debian 12, starts a cluster as the postgres user, and
# creates Clearwell's two roles and its database. Idempotent: a second run only checks.
#
# Two roles (SECURITY.md): the owner owns the database and every table and runs the
# migrations; the runtime role, which the web app and the collectors use, gets from
# `clearwell db migrate` the right to read and append records and nothing more. An
# install made when one role did both has its database and objects moved to the owner
# here; run `clearwell db migrate` (as `make migrate`, `make serve` and `make demo` do)
# afterwards to give the runtime role its grants.
#
# Environment (all optional):
#   CLEARWELL_PGDATA   data directory      (default /var/lib/clearwell/pgdata)
#   CLEARWELL_PGPORT   port                (default 54329)
#   CLEARWELL_DB_USER / CLEARWELL_DB_PASSWORD
#                      runtime role        (default clearwell/clearwell)
#   CLEARWELL_DB_OWNER / CLEARWELL_DB_OWNER_PASSWORD
#                      owner role          (default clearwell_owner/clearwell)
#   CLEARWELL_DB_NAME  database            (default clearwell)
set -euo pipefail

PG_MAJOR=15
PGBIN=/usr/lib/postgresql/$PG_MAJOR/bin
PGDATA=${CLEARWELL_PGDATA:-/var/lib/clearwell/pgdata}
PGPORT=${CLEARWELL_PGPORT:-54329}
DB_USER=${CLEARWELL_DB_USER:-clearwell}
DB_PASSWORD=${CLEARWELL_DB_PASSWORD:-clearwell}
DB_OWNER=${CLEARWELL_DB_OWNER:-clearwell_owner}
DB_OWNER_PASSWORD=${CLEARWELL_DB_OWNER_PASSWORD:-clearwell}
DB_NAME=${CLEARWELL_DB_NAME:-clearwell}
BUILD_ROOT=${CLEARWELL_BUILD_ROOT:-/var/tmp/clearwell-build}

log() { printf 'setup-timescaledb: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -un)" = postgres ]; then "$@"; else as_root runuser -u postgres -- "$@"; fi; }

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

apt_install postgresql-$PG_MAJOR postgresql-client-$PG_MAJOR

pkglibdir=$("$PGBIN/../bin/postgres" --version >/dev/null 2>&1 && /usr/lib/postgresql/$PG_MAJOR/bin/pg_config --pkglibdir 2>/dev/null || true)
[ -n "$pkglibdir" ] || pkglibdir=/usr/lib/postgresql/$PG_MAJOR/lib

if ! ls "$pkglibdir"/timescaledb*.so >/dev/null 2>&1; then
  apt_install postgresql-server-dev-$PG_MAJOR cmake build-essential dpkg-dev libssl-dev libkrb5-dev
  # A private apt configuration with a deb-src line for trixie, reusing the
  # mirror this machine is already configured with; the system's own apt
  # state is not touched.
  mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  if [ -z "$mirror" ]; then
    mirror=$(grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  fi
  [ -n "$mirror" ] || { log "no Debian mirror found in /etc/apt/sources.list.d/"; exit 1; }
  aptdir=$BUILD_ROOT/apt
  mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial" "$aptdir/parts"
  cat >"$aptdir/sources.list" <<SRC
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main
SRC
  aptopts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o "Dir::Etc::SourceParts=$aptdir/parts"
           -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache::Archives=$aptdir/archives"
           -o "APT::Sandbox::User=root")
  log "fetching the timescaledb source package from trixie"
  as_root apt-get "${aptopts[@]}" update -qq
  srcdir=$BUILD_ROOT/src
  rm -rf "$srcdir"; mkdir -p "$srcdir"
  (cd "$srcdir" && as_root apt-get "${aptopts[@]}" source -qq timescaledb >/dev/null)
  tsdir=$(find "$srcdir" -maxdepth 1 -mindepth 1 -type d -name 'timescaledb-*' | head -n1)
  [ -n "$tsdir" ] || { log "apt-get source produced no timescaledb directory in $srcdir"; exit 1; }
  log "building $(basename "$tsdir") (Apache edition)"
  (cd "$tsdir" && PATH=/usr/lib/postgresql/$PG_MAJOR/bin:$PATH ./bootstrap -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
      -DPG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config >"$BUILD_ROOT/bootstrap.log" 2>&1 \
    && cd build && make -j"$(nproc)" >"$BUILD_ROOT/make.log" 2>&1 && as_root make install >"$BUILD_ROOT/install.log" 2>&1) \
    || { log "build failed; see logs in $BUILD_ROOT"; exit 1; }
fi

# A cluster of Clearwell's own, run by the postgres user (pg_ctl refuses root).
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  log "initialising a cluster in $PGDATA"
  as_root mkdir -p "$PGDATA"
  as_root chown postgres:postgres "$PGDATA" "$(dirname "$PGDATA")"
  as_postgres "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
fi
conf=$PGDATA/postgresql.auto.conf
want_conf=$(cat <<CONF
# Written by scripts/setup-timescaledb.sh
shared_preload_libraries = 'timescaledb'
port = $PGPORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '/var/run/postgresql'
timescaledb.telemetry_level = 'off'
max_connections = 200
CONF
)
if [ "$(as_root cat "$conf" 2>/dev/null)" != "$want_conf" ]; then
  printf '%s\n' "$want_conf" | as_root tee "$conf" >/dev/null
  as_root chown postgres:postgres "$conf"
  if as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  fi
fi
as_root mkdir -p /var/run/postgresql
as_root chown postgres:postgres /var/run/postgresql
if ! as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
  log "starting PostgreSQL on port $PGPORT"
  as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 start >/dev/null
fi

psql_su() { as_postgres "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -p "$PGPORT" -U postgres "$@"; }
# Values go in as psql variables, quoted by psql itself. The owner may create
# databases (the benchmarks' scratch ones); a new runtime role may not.
psql_su -d postgres -v u="$DB_USER" -v p="$DB_PASSWORD" -v o="$DB_OWNER" \
    -v op="$DB_OWNER_PASSWORD" -v d="$DB_NAME" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'o', :'op')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'o') \gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'u', :'p')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'d', :'o')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'d') \gexec
-- An install from before two roles: its database was the runtime role's.
SELECT format('ALTER DATABASE %I OWNER TO %I', :'d', :'o')
 FROM pg_database WHERE datname = :'d' AND datdba = (SELECT oid FROM pg_roles WHERE rolname = :'u')
\gexec
SQL
# And its tables, views, sequences and functions: each moved to the owner (a hypertable
# takes its chunks along). Per object, in this database only: REASSIGN OWNED would also
# hand over every other database the runtime role owns on the server.
psql_su -d "$DB_NAME" -v u="$DB_USER" -v o="$DB_OWNER" <<'SQL'
SELECT format('ALTER TABLE %s OWNER TO %I', c.oid::regclass, :'o')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = :'u')
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname = 'public'
 ORDER BY c.relname \gexec
SELECT format('ALTER SEQUENCE %s OWNER TO %I', c.oid::regclass, :'o')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = :'u') AND c.relkind = 'S'
   AND n.nspname = 'public' \gexec
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, :'o')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.proowner = (SELECT oid FROM pg_roles WHERE rolname = :'u') AND n.nspname = 'public'
\gexec
SQL
# The extension is created by a superuser in template1 so that every database
# Clearwell (and its tests) create already has it.
for db in template1 "$DB_NAME"; do
  psql_su -d "$db" -c 'CREATE EXTENSION IF NOT EXISTS timescaledb' 2>&1 | grep -v 'NOTICE' >&2 || true
done
psql_su -d "$DB_NAME" -tAc "SELECT extversion FROM pg_extension WHERE extname='timescaledb'" | grep -q . \
  || { log "timescaledb extension missing in $DB_NAME"; exit 1; }
log "ready: postgresql://$DB_USER:***@127.0.0.1:$PGPORT/$DB_NAME (runtime), $DB_OWNER (owner)"
