#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster that fails over, on loopback only, for the tests
# and the failover benchmark: a pg_auto_failover monitor and two (or three) data nodes
# with TimescaleDB, each node's Postgres and its pg_autoctl keeper run as `postgres`.
#
#   scripts/failover-cluster.sh start DIR BASE_PORT [NODES]   monitor on BASE_PORT, nodes on BASE_PORT+1..
#   scripts/failover-cluster.sh primary DIR                   the port of the current primary
#   scripts/failover-cluster.sh kill DIR PORT                 SIGKILL a node's keeper and Postgres
#   scripts/failover-cluster.sh state DIR                     pg_autoctl show state
#   scripts/failover-cluster.sh stop DIR                      stop everything and remove DIR
#
# The monitor's health checks and the keepers' timeouts are shortened so that a lost
# primary is replaced within seconds rather than pg_auto_failover's default half minute;
# replication stays synchronous (pg_auto_failover's default), so a commit a client saw
# is on the standby that is promoted. Needs scripts/setup-timescaledb.sh and Debian's
# postgresql-15-auto-failover (scripts/setup-test-tools.sh installs it).
set -euo pipefail

PG_BIN=${CLEARWELL_PG_BIN:-/usr/lib/postgresql/15/bin}
export PATH=$PG_BIN:$PATH

# Postgres and pg_autoctl refuse to run as root: run as postgres, with pg_autoctl's
# configuration and state kept in the throwaway directory. The script runs from a copy
# in that directory, since postgres may not be able to read a checkout under /root.
if [ "$(id -u)" -eq 0 ] && [ -n "${2:-}" ]; then
  if [ "$1" = start ]; then
    mkdir -p "$2"
    chown postgres: "$2"
  fi
  if [ -d "$2" ]; then
    install -m 755 -o postgres "$0" "$2/.failover-cluster.sh"
    cd "$2"
    exec runuser -u postgres -- env PATH="$PATH" "$2/.failover-cluster.sh" "$@"
  fi
  exit 0 # stop, kill, state or primary of a cluster that is not there
fi
as_pg() { "$@"; }
log() { printf 'failover-cluster: %s\n' "$*" >&2; }

monitor_url() { echo "postgres://autoctl_node@127.0.0.1:$(cat "$1/monitor.port")/pg_auto_failover?sslmode=disable"; }

wait_for() { # SECONDS DESCRIPTION COMMAND...
  local until=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $until ]; then
      log "gave up waiting for $what"
      return 1
    fi
    sleep 0.3
  done
}

keeper() { # DIR NAME: pg_autoctl run in the background, its pid in DIR/NAME.pid
  local dir=$1 name=$2
  setsid pg_autoctl run --pgdata "$dir/$name" >>"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}

node_settings() { # PGDATA
  cat >>"$1/postgresql.conf" <<CONF
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = 'off'
max_connections = 200
# Nodes are lost by killing their processes, never the machine: the kernel keeps what
# was written, so the throwaway cluster skips flushing it to disk.
fsync = off
CONF
  # Clients reach the nodes on loopback only, as the clearwell role or postgres.
  echo "host all all 127.0.0.1/32 trust" >>"$1/pg_hba.conf"
}

start() {
  local dir=$1 base=$2 nodes=${3:-2}
  mkdir -p "$dir"
  echo "$base" >"$dir/monitor.port"
  log "monitor on 127.0.0.1:$base"
  as_pg pg_autoctl create monitor --pgdata "$dir/monitor" --pgport "$base" \
    --hostname 127.0.0.1 --listen 127.0.0.1 --auth trust --no-ssl >>"$dir/monitor.log" 2>&1
  keeper "$dir" monitor
  wait_for 60 "the monitor" as_pg psql -h 127.0.0.1 -p "$base" -U autoctl_node -d pg_auto_failover -Atc "select 1"
  as_pg psql -h 127.0.0.1 -p "$base" -U postgres -d pg_auto_failover -q >/dev/null <<SQL
ALTER SYSTEM SET pgautofailover.health_check_period = 1000;
ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000;
ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1;
ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500;
ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 2000;
ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 3000;
SELECT pg_reload_conf();
SQL
  local i port
  for i in $(seq 1 "$nodes"); do
    port=$((base + i))
    echo "$port" >"$dir/node$i.port"
    if [ "$i" -eq 1 ]; then
      as_pg initdb -D "$dir/node1" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >>"$dir/node1.log" 2>&1
      node_settings "$dir/node1"
    fi
    log "node$i on 127.0.0.1:$port"
    as_pg pg_autoctl create postgres --pgdata "$dir/node$i" --pgport "$port" --pgctl "$PG_BIN/pg_ctl" \
      --hostname 127.0.0.1 --listen 127.0.0.1 --name "node$i" --auth trust --no-ssl \
      --username postgres --dbname postgres --monitor "$(monitor_url "$dir")" >>"$dir/node$i.log" 2>&1
    as_pg pg_autoctl config set --pgdata "$dir/node$i" timeout.network_partition_timeout 3 >/dev/null
    as_pg pg_autoctl config set --pgdata "$dir/node$i" timeout.prepare_promotion_walreceiver 1 >/dev/null
    as_pg pg_autoctl config set --pgdata "$dir/node$i" timeout.postgresql_restart_failure_timeout 3 >/dev/null
    keeper "$dir" "node$i"
    wait_for 120 "node$i to join" joined "$dir" "node$i"
  done
  # The first node is primary (not wait_primary) once a standby replicates synchronously.
  [ "$nodes" -gt 1 ] && wait_for 60 "node1 to be primary" joined "$dir" node1
  [ "$nodes" -gt 1 ] && wait_for 60 "a synchronous standby" settled "$dir" "$nodes"
  return 0
}

settled() { # DIR NODES: one primary and every other node a secondary
  [ "$(monitor_sql "$1" "select count(*) from pgautofailover.node where reportedstate = goalstate
    and reportedstate in ('primary', 'secondary')")" = "$2" ]
}

monitor_sql() { # DIR SQL
  psql -h 127.0.0.1 -p "$(cat "$1/monitor.port")" -U autoctl_node -d pg_auto_failover -Atc "$2"
}

joined() { # DIR NODE: the node reports the state the monitor assigned it, a settled one
  [ -n "$(monitor_sql "$1" "select 1 from pgautofailover.node where nodename = '$2'
    and reportedstate = goalstate and reportedstate in ('single', 'primary', 'secondary')")" ]
}

primary() {
  monitor_sql "$1" "select nodeport from pgautofailover.node where reportedstate in ('primary','wait_primary','single') and goalstate = reportedstate"
}

kill_node() {
  local dir=$1 port=$2 i
  for i in $(seq 1 9); do
    if [ -f "$dir/node$i.port" ] && [ "$(cat "$dir/node$i.port")" = "$port" ]; then
      local pid
      pid=$(cat "$dir/node$i.pid")
      kill -KILL -- "-$pid" 2>/dev/null || true
      if [ -f "$dir/node$i/postmaster.pid" ]; then
        kill -KILL "$(head -1 "$dir/node$i/postmaster.pid")" 2>/dev/null || true
      fi
      return 0
    fi
  done
  log "no node on port $port"
  return 1
}

stop() {
  local dir=$1 f pid
  [ -d "$dir" ] || return 0
  for f in "$dir"/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  sleep 1
  for f in "$dir"/*.pid; do
    [ -f "$f" ] || continue
    kill -KILL -- "-$(cat "$f")" 2>/dev/null || true
  done
  for f in "$dir"/*/postmaster.pid; do
    [ -f "$f" ] && kill -KILL "$(head -1 "$f")" 2>/dev/null || true
  done
  rm -rf "$dir"
}

if [ -n "${2:-}" ]; then
  export XDG_CONFIG_HOME=$2/config XDG_DATA_HOME=$2/share
fi
cmd=${1:-}
shift || true
case $cmd in
  start) start "$@" ;;
  primary) primary "$@" ;;
  kill) kill_node "$@" ;;
  state) as_pg pg_autoctl show state --pgdata "$1/monitor" ;;
  stop) stop "$@" ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
