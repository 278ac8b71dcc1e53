#!/usr/bin/env bash
# pindb local replication test bed: PostgreSQL primary + 2 streaming replicas, MariaDB primary
# + 1 GTID replica, Redis, and (for benchmarks only) pgpool-II. No Docker: the installed server
# binaries run in a throwaway directory. Background and measured pitfalls:
# /work/shared/reference/local-replication.md (P1–P9, M1–M11).
#
# Usage:
#   scripts/testbed.sh start   [pg|mariadb|redis|pgpool|all]...   start (idempotent; fast no-op when up)
#   scripts/testbed.sh stop    [pg|mariadb|redis|pgpool|all]...   stop (no-op when down)
#   scripts/testbed.sh status  [pg|mariadb|redis|pgpool|all]...   exit 0 only if all are up and replicating
#   scripts/testbed.sh destroy [pg|mariadb|redis|pgpool|all]...   stop + delete the data
#   scripts/testbed.sh pg-delay <ms>            recovery_min_apply_delay of PG replica 1 (0 = off; persists)
#   scripts/testbed.sh mariadb-delay <seconds>  MASTER_DELAY of the MariaDB replica (0 = off; persists)
#   scripts/testbed.sh stop-node  <pg-primary|pg-replica-0|pg-replica-1|mariadb-primary|mariadb-replica>
#   scripts/testbed.sh start-node <same>         returns once the node is up and replication streams again
#   scripts/testbed.sh kill-node  <same>         SIGKILL the server and all its processes (a crash; start-node recovers)
#   scripts/testbed.sh pause-node <same>         SIGSTOP the server and all its processes: a hung server (TCP
#                                                open, no answer); resume-node <same> sends SIGCONT
#   scripts/testbed.sh env                      prints `export` lines with all connection facts
# No component = all = pg mariadb redis. pgpool is only touched when named (destroy of
# everything also stops it, because its directory goes away).
#
# Status exit codes: 0 everything asked for is up and replicating, 3 a node is down,
# 4 nodes up but replication not running (PG replica not streaming / MariaDB thread not Yes).
#
# Environment (all optional):
#   PINDB_TESTBED_DIR          /tmp/pindb-tb   base directory (keep short: unix sockets <= 107 bytes)
#   PINDB_PG_PORT              25432           PostgreSQL primary (127.0.0.1, trust, user postgres, db pindb)
#   PINDB_PG_REPLICA0_PORT     PG_PORT+1       PostgreSQL replica 0 (no delay)
#   PINDB_PG_REPLICA1_PORT     PG_PORT+2       PostgreSQL replica 1 (the delayed one)
#   PINDB_PG_DELAY_MS          (unset)         if set, start applies this recovery_min_apply_delay to
#                                              replica 1; else a new bed starts at 0 and an existing
#                                              one keeps the last `pg-delay` value
#   PINDB_MARIADB_PORT         23306           MariaDB primary (127.0.0.1, root, empty password, db pindb)
#   PINDB_MARIADB_REPLICA_PORT MARIADB_PORT+1  MariaDB replica (read_only=1)
#   PINDB_MARIADB_DELAY_S      (unset)         like PINDB_PG_DELAY_MS, for MASTER_DELAY (seconds)
#   PINDB_REDIS_PORT           26379           redis-server (127.0.0.1, no persistence)
#   PINDB_PGPOOL_PORT          29999           pgpool-II (only `start pgpool`); pcp on PGPOOL_PORT-1
#   PINDB_PGPOOL_PCP_PORT      PGPOOL_PORT-1
#   PINDB_PG_BIN               auto            directory with postgres/initdb/pg_ctl (default PG 15)
#   PINDB_PG_OS_USER           postgres        OS user running PostgreSQL when invoked as root
#   PINDB_MARIADB_OS_USER      mysql           OS user mariadbd drops to when invoked as root
#   PINDB_TESTBED_TIMEOUT_S    30              upper bound of every readiness wait
#
# Default ports are below 32768 on purpose: Linux hands out 32768-60999 as ephemeral ports, so a
# long-lived client socket (a replica's replication connection, a pool) can hold a port in that range
# and make a later bind fail with 'Address already in use'.
#
# Notes: a port change needs `destroy` (replicas store the primary's port). A promoted PG
# replica needs `destroy`. Missing server packages are installed with apt when run as root.
# Changing anything under $PINDB_TESTBED_DIR by hand is not supported.

set -uo pipefail

TB_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB_SCRIPT="$TB_SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
cd / || exit 1

# shellcheck source=testbed/common.sh
. "$TB_SCRIPT_DIR/testbed/common.sh"
# shellcheck source=testbed/pg.sh
. "$TB_SCRIPT_DIR/testbed/pg.sh"
# shellcheck source=testbed/mariadb.sh
. "$TB_SCRIPT_DIR/testbed/mariadb.sh"
# shellcheck source=testbed/redis.sh
. "$TB_SCRIPT_DIR/testbed/redis.sh"
# shellcheck source=testbed/pgpool.sh
. "$TB_SCRIPT_DIR/testbed/pgpool.sh"

usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$TB_SCRIPT"; }

# component -> function prefix
prefix_of() { case $1 in pg) echo pg ;; mariadb) echo my ;; redis) echo redis ;; pgpool) echo pgpool ;; esac; }

# parse_components ARGS... -> sets COMPONENTS (ordered, unique) and WANT_ALL
parse_components() {
  COMPONENTS=()
  WANT_ALL=0
  (($# == 0)) && set -- all
  local arg c x have expanded
  for arg in "$@"; do
    case $arg in
      all) expanded="pg mariadb redis"; WANT_ALL=1 ;;
      pg | mariadb | redis | pgpool) expanded=$arg ;;
      *) die "unknown component '$arg' (expected pg, mariadb, redis, pgpool or all)" ;;
    esac
    for c in $expanded; do
      have=0
      for x in "${COMPONENTS[@]}"; do [[ $x == "$c" ]] && have=1; done
      ((have)) || COMPONENTS+=("$c")
    done
  done
}

# run_parallel ACTION COMPONENT... -> runs <prefix>_ACTION for each component concurrently,
# prints their output in component order, returns the first non-zero status (0 if none)
run_parallel() {
  local action=$1; shift
  (($# == 0)) && return 0
  if (($# == 1)); then "$(prefix_of "$1")_$action"; return; fi
  local tmp c rc=0 r
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/pindb-tb-run.XXXXXX") || die "mktemp failed"
  local pids=()
  for c in "$@"; do
    ("$(prefix_of "$c")_$action") >"$tmp/$c.out" 2>"$tmp/$c.err" &
    pids+=($!)
  done
  local i=0
  for c in "$@"; do
    wait "${pids[$i]}"; r=$?
    cat "$tmp/$c.out"
    cat "$tmp/$c.err" >&2
    ((rc == 0 && r != 0)) && rc=$r
    i=$((i + 1))
  done
  rm -rf "$tmp"
  return $rc
}

cmd_start() {
  parse_components "$@"
  tb_lock
  local base=() c
  for c in "${COMPONENTS[@]}"; do [[ $c != pgpool ]] && base+=("$c"); done
  run_parallel start "${base[@]}" || exit 1
  for c in "${COMPONENTS[@]}"; do
    if [[ $c == pgpool ]]; then pgpool_start || exit 1; fi
  done
  return 0
}

cmd_stop() {
  parse_components "$@"
  tb_lock
  local base=() c rc=0
  for c in "${COMPONENTS[@]}"; do
    if [[ $c == pgpool ]]; then pgpool_stop || rc=1; else base+=("$c"); fi
  done
  run_parallel stop "${base[@]}" || rc=1
  return $rc
}

cmd_status() {
  parse_components "$@"
  local c r rc=0
  for c in "${COMPONENTS[@]}"; do
    "$(prefix_of "$c")_status"; r=$?
    ((r > rc)) && rc=$r
  done
  return $rc
}

cmd_destroy() {
  local explicit=$#
  parse_components "$@"
  tb_lock
  local c rc=0
  if ((explicit == 0 || WANT_ALL)) && [[ -d $TB_DIR/pgpool ]]; then
    # the whole directory goes away: pgpool too
    pgpool_stop >/dev/null || rc=1
    COMPONENTS+=(pgpool)
  fi
  for c in "${COMPONENTS[@]}"; do
    [[ $c == pgpool ]] && { pgpool_destroy || rc=1; }
  done
  local base=()
  for c in "${COMPONENTS[@]}"; do [[ $c != pgpool ]] && base+=("$c"); done
  run_parallel destroy "${base[@]}" || rc=1
  if ((rc == 0 && (explicit == 0 || WANT_ALL))); then
    # remove the base directory when nothing else is left in it
    rmdir "$TB_DIR" 2>/dev/null || true
  fi
  return $rc
}

node_component() {
  case $1 in
    pg-primary | pg-replica-0 | pg-replica-1) echo pg ;;
    mariadb-primary | mariadb-replica) echo mariadb ;;
    *) die "unknown node '$1' (expected pg-primary, pg-replica-0, pg-replica-1, mariadb-primary or mariadb-replica)" ;;
  esac
}

cmd_stop_node() {
  (($# == 1)) || die "usage: testbed.sh stop-node <node>"
  local comp
  comp=$(node_component "$1") || exit 1
  tb_lock
  "$(prefix_of "$comp")_stop_named" "$1"
}

cmd_start_node() {
  (($# == 1)) || die "usage: testbed.sh start-node <node>"
  local comp
  comp=$(node_component "$1") || exit 1
  tb_lock
  "$(prefix_of "$comp")_start_named" "$1"
}

# node_pids NODE -> the server's main PID and its children's (PostgreSQL backends), one per line
node_pids() {
  local comp pid
  comp=$(node_component "$1") || return 1
  if [[ $comp == pg ]]; then
    local node
    node=$(pg_node_from_name "$1") || return 1
    pid=$(pg_pid "$node") || return 1
  else
    pid=$(my_pid "${1#mariadb-}") || return 1
  fi
  echo "$pid"
  pgrep -P "$pid" 2>/dev/null || true
}

cmd_signal_node() {
  local signal=$1
  shift
  (($# == 1)) || die "usage: testbed.sh kill-node|pause-node|resume-node <node>"
  local pids
  pids=$(node_pids "$1") || die "$1 is not running"
  # shellcheck disable=SC2086
  kill -s "$signal" $pids 2>/dev/null || true
  echo "$1: $signal sent to $(echo $pids | wc -w) process(es)"
}

cmd_pg_delay() {
  (($# == 1)) || die "usage: testbed.sh pg-delay <milliseconds>"
  tb_lock
  pg_ensure_bins
  pg_apply_delay "$1"
}

cmd_mariadb_delay() {
  (($# == 1)) || die "usage: testbed.sh mariadb-delay <seconds>"
  tb_lock
  my_find_bins || die "MariaDB binaries not found"
  my_apply_delay "$1"
}

cmd_env() {
  cat <<EOF
export PINDB_TESTBED_DIR='$TB_DIR'
export PINDB_PG_HOST=127.0.0.1
export PINDB_PG_PORT=$PG_PORT
export PINDB_PG_REPLICA0_PORT=$PG_REPLICA0_PORT
export PINDB_PG_REPLICA1_PORT=$PG_REPLICA1_PORT
export PINDB_PG_USER=postgres
export PINDB_PG_DATABASE=pindb
export PINDB_PG_PRIMARY_URL='postgres://postgres@127.0.0.1:$PG_PORT/pindb'
export PINDB_PG_REPLICA0_URL='postgres://postgres@127.0.0.1:$PG_REPLICA0_PORT/pindb'
export PINDB_PG_REPLICA1_URL='postgres://postgres@127.0.0.1:$PG_REPLICA1_PORT/pindb'
export PINDB_MARIADB_HOST=127.0.0.1
export PINDB_MARIADB_PORT=$MY_PORT
export PINDB_MARIADB_REPLICA_PORT=$MY_REPLICA_PORT
export PINDB_MARIADB_USER=root
export PINDB_MARIADB_PASSWORD=''
export PINDB_MARIADB_DATABASE=pindb
export PINDB_MARIADB_PRIMARY_URL='mysql://root@127.0.0.1:$MY_PORT/pindb'
export PINDB_MARIADB_REPLICA_URL='mysql://root@127.0.0.1:$MY_REPLICA_PORT/pindb'
export PINDB_REDIS_HOST=127.0.0.1
export PINDB_REDIS_PORT=$REDIS_PORT
export PINDB_REDIS_URL='redis://127.0.0.1:$REDIS_PORT'
export PINDB_PGPOOL_PORT=$PGPOOL_PORT
export PINDB_PGPOOL_PCP_PORT=$PGPOOL_PCP_PORT
export PINDB_PGPOOL_URL='postgres://postgres@127.0.0.1:$PGPOOL_PORT/pindb'
EOF
}

main() {
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    destroy) cmd_destroy "$@" ;;
    pg-delay) cmd_pg_delay "$@" ;;
    mariadb-delay) cmd_mariadb_delay "$@" ;;
    stop-node) cmd_stop_node "$@" ;;
    start-node) cmd_start_node "$@" ;;
    kill-node) cmd_signal_node KILL "$@" ;;
    pause-node) cmd_signal_node STOP "$@" ;;
    resume-node) cmd_signal_node CONT "$@" ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
