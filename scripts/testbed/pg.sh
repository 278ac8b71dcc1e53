# shellcheck shell=bash
# PostgreSQL part of the testbed: a primary and two streaming replicas (replica 1 can be
# delayed with recovery_min_apply_delay). Sourced by scripts/testbed.sh after common.sh.
#
# Layout ($TB_DIR/pg, owned by the postgres OS user, mode 0700):
#   primary/ replica0/ replica1/   data directories (node.conf = per-node settings, rewritten on start)
#   run/                           unix sockets
#   <node>.log                     server logs
#   replica1.delay_ms              persisted recovery_min_apply_delay of replica 1
#   .primary-ready                 marker: primary initialised and database pindb created

PG_BASE="$TB_DIR/pg"
PG_NODES=(primary replica0 replica1)

pg_find_bin() {
  if [[ -n ${PINDB_PG_BIN:-} ]]; then PGBIN=$PINDB_PG_BIN; return 0; fi
  local d
  for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -Vr); do
    if [[ -x $d/postgres && -x $d/initdb && -x $d/pg_ctl ]]; then PGBIN=$d; return 0; fi
  done
  local p
  p=$(command -v postgres 2>/dev/null) && { PGBIN=$(dirname "$(readlink -f "$p")"); return 0; }
  PGBIN=
  return 1
}

pg_ensure_bins() {
  pg_find_bin || true
  local missing=0 b
  for b in postgres initdb pg_ctl; do [[ -n $PGBIN && -x $PGBIN/$b ]] || missing=1; done
  if ((missing)); then
    apt_install postgresql-15 postgresql-client-15
    pg_find_bin || die "PostgreSQL binaries still not found after install"
  fi
  PG_BASEBACKUP=$PGBIN/pg_basebackup
  [[ -x $PG_BASEBACKUP ]] || PG_BASEBACKUP=$(command -v pg_basebackup) || apt_install postgresql-client-15
  [[ -x $PG_BASEBACKUP ]] || PG_BASEBACKUP=$(command -v pg_basebackup) || die "pg_basebackup not found"
  PSQL=$PGBIN/psql
  [[ -x $PSQL ]] || PSQL=$(command -v psql) || die "psql not found"
}

# run a command as the postgres OS user (P1); cwd / so runuser does not complain
as_pg() {
  if ((IS_ROOT)); then (cd / && runuser -u "$PG_USER_OS" -- "$@"); else (cd / && "$@"); fi
}

pg_node_name() { case $1 in primary) echo pg-primary ;; replica0) echo pg-replica-0 ;; replica1) echo pg-replica-1 ;; esac; }
pg_node_port() { case $1 in primary) echo "$PG_PORT" ;; replica0) echo "$PG_REPLICA0_PORT" ;; replica1) echo "$PG_REPLICA1_PORT" ;; esac; }
pg_node_from_name() {
  case $1 in
    pg-primary) echo primary ;; pg-replica-0) echo replica0 ;; pg-replica-1) echo replica1 ;;
    *) return 1 ;;
  esac
}

# pg_pid NODE -> prints the postmaster PID when it is really running
pg_pid() {
  local pid
  pid=$(pidfile_pid "$PG_BASE/$1/postmaster.pid")
  [[ -n $pid ]] && alive "$pid" postgres postmaster && { echo "$pid"; return 0; }
  return 1
}
pg_running() { pg_pid "$1" >/dev/null; }

# pg_sql PORT SQL -> runs SQL over TCP as postgres on database postgres, unaligned output
pg_sql() {
  PGCONNECT_TIMEOUT=3 "$PSQL" -X -q -A -t -F '|' -h 127.0.0.1 -p "$1" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 -c "$2" 2>&1
}

pg_delay_ms() {
  local f=$PG_BASE/replica1.delay_ms v=0
  [[ -f $f ]] && v=$(tr -dc '0-9' <"$f")
  echo "${v:-0}"
}

pg_write_node_conf() {
  local node=$1 f="$PG_BASE/$1/node.conf"
  {
    echo "# written by scripts/testbed.sh on every start; do not edit"
    echo "port = $(pg_node_port "$node")"
    echo "cluster_name = '$(pg_node_name "$node")'"
    if [[ $node == replica1 ]]; then
      echo "recovery_min_apply_delay = '$(pg_delay_ms)ms'"
    elif [[ $node == replica0 ]]; then
      echo "recovery_min_apply_delay = 0"
    fi
  } >"$f.tmp" && mv -f "$f.tmp" "$f"
  ((IS_ROOT)) && chown "$PG_USER_OS:" "$f"
  return 0
}

pg_prepare_dirs() {
  ensure_os_user "$PG_USER_OS"
  ensure_base_dir
  mkdir -p "$PG_BASE/run"
  ((IS_ROOT)) && chown "$PG_USER_OS:" "$PG_BASE" "$PG_BASE/run"
  chmod 700 "$PG_BASE"
}

pg_init_primary() {
  local tmp=$PG_BASE/primary.tmp
  rm -rf "$tmp"
  log "pg: initdb"
  as_pg "$PGBIN/initdb" -D "$tmp" -U postgres --auth=trust --no-sync --wal-segsize=1 \
    -E UTF8 --locale=C >"$PG_BASE/initdb.log" 2>&1 || { tail_log "$PG_BASE/initdb.log"; die "initdb failed"; }
  cat >>"$tmp/postgresql.conf" <<EOF

# ---- pindb testbed (scripts/testbed/pg.sh) ----
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_BASE/run'
max_connections = 200
fsync = off
full_page_writes = off
synchronous_commit = on
wal_level = replica
max_wal_senders = 10
wal_keep_size = 128MB
hot_standby = on
hot_standby_feedback = on
wal_retrieve_retry_interval = 500ms
# per-node settings (port, cluster_name, recovery_min_apply_delay); must stay last
include_if_exists = 'node.conf'
EOF
  cat >"$tmp/pg_hba.conf" <<EOF
# pindb testbed: trust everything local
local   all             all                     trust
host    all             all     127.0.0.1/32    trust
local   replication     all                     trust
host    replication     all     127.0.0.1/32    trust
EOF
  ((IS_ROOT)) && chown "$PG_USER_OS:" "$tmp/postgresql.conf" "$tmp/pg_hba.conf"
  mv "$tmp" "$PG_BASE/primary"
}

pg_basebackup_replica() {
  local node=$1 tmp=$PG_BASE/$1.tmp
  rm -rf "$tmp"
  as_pg "$PG_BASEBACKUP" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$tmp" -c fast --no-sync -R \
    -X stream >"$PG_BASE/$node.basebackup.log" 2>&1 || { tail_log "$PG_BASE/$node.basebackup.log"; return 1; }
  mv "$tmp" "$PG_BASE/$node"
}

# pg_start_node NODE -> starts one node if it is not running (waits until it accepts connections)
pg_start_node() {
  local node=$1 data=$PG_BASE/$1 pid
  pg_running "$node" && return 0
  [[ -f $data/PG_VERSION ]] || { log "pg: $node has no data directory"; return 1; }
  pid=$(pidfile_pid "$data/postmaster.pid")
  if [[ -n $pid ]]; then
    if zombie "$pid"; then
      # P5: PID 1 reaps late; a new postmaster would refuse while the zombie PID exists
      wait_reaped "$pid" 20 || { log "pg: $node: zombie $pid not reaped, removing stale postmaster.pid"; rm -f "$data/postmaster.pid"; }
    elif [[ -e /proc/$pid ]]; then
      # PID reused by some other program: the lock file is stale
      rm -f "$data/postmaster.pid"
    fi
  fi
  local port
  port=$(pg_node_port "$node")
  if port_in_use "$port"; then
    log "pg: port $port (needed by $(pg_node_name "$node")) is already in use"
    return 1
  fi
  pg_write_node_conf "$node"
  if ! as_pg "$PGBIN/pg_ctl" start -w -t "$TB_WAIT_S" -D "$data" -l "$PG_BASE/$node.log" >/dev/null 2>"$PG_BASE/$node.pg_ctl.err" 9>&-; then
    cat "$PG_BASE/$node.pg_ctl.err" >&2
    tail_log "$PG_BASE/$node.log"
    log "pg: could not start $(pg_node_name "$node")"
    return 1
  fi
  return 0
}

pg_stop_node() {
  local node=$1
  pg_running "$node" || return 0
  as_pg "$PGBIN/pg_ctl" stop -m fast -w -t "$TB_WAIT_S" -D "$PG_BASE/$node" >/dev/null 2>&1 9>&- || {
    log "pg: pg_ctl stop failed for $(pg_node_name "$node")"
    return 1
  }
}

# prints "app|state" lines from pg_stat_replication on the primary
pg_replication() { pg_sql "$PG_PORT" "select application_name, state from pg_stat_replication order by 1"; }

# pg_streaming NODE... -> 0 when every replica NODE is streaming according to the primary
pg_streaming() {
  local rep n
  rep=$(pg_replication) || return 1
  for n in "$@"; do
    grep -qx "$(pg_node_name "$n")|streaming" <<<"$rep" || return 1
  done
  return 0
}

pg_wait_streaming() {
  local deadline=$(( $(now_ms) + TB_WAIT_S * 1000 ))
  until pg_streaming "$@"; do
    if (( $(now_ms) > deadline )); then
      log "pg: replicas not streaming after ${TB_WAIT_S}s; pg_stat_replication:"
      pg_replication >&2
      return 1
    fi
    sleep 0.05
  done
}

# pg_apply_delay MS -> persist, rewrite node.conf, reload replica 1, wait until it shows the value
pg_apply_delay() {
  local ms=$1
  [[ $ms =~ ^[0-9]+$ ]] || die "pg-delay: expected milliseconds (integer >= 0), got '$ms'"
  ms=$((10#$ms))
  [[ -d $PG_BASE ]] || die "pg-delay: PostgreSQL testbed not created; run: scripts/testbed.sh start pg"
  echo "$ms" >"$PG_BASE/replica1.delay_ms"
  ((IS_ROOT)) && chown "$PG_USER_OS:" "$PG_BASE/replica1.delay_ms"
  [[ -d $PG_BASE/replica1 ]] || return 0
  pg_write_node_conf replica1
  pg_running replica1 || { log "pg: replica 1 is stopped; delay ${ms}ms applies at its next start"; return 0; }
  as_pg "$PGBIN/pg_ctl" reload -D "$PG_BASE/replica1" >/dev/null 2>&1 9>&- || die "pg_ctl reload failed"
  local deadline=$(( $(now_ms) + 10000 )) cur
  while :; do
    cur=$(pg_sql "$PG_REPLICA1_PORT" "select setting from pg_settings where name = 'recovery_min_apply_delay'")
    [[ $cur == "$ms" ]] && break
    (( $(now_ms) > deadline )) && die "pg-delay: replica 1 still reports recovery_min_apply_delay=$cur"
    sleep 0.02
  done
  echo "pg: pg-replica-1 recovery_min_apply_delay=${ms}ms"
}

pg_start() {
  pg_ensure_bins
  pg_prepare_dirs
  local n

  # fast path: everything already up and streaming
  if pg_running primary && pg_running replica0 && pg_running replica1 && pg_streaming replica0 replica1; then
    if [[ -n ${PINDB_PG_DELAY_MS:-} && ${PINDB_PG_DELAY_MS} != "$(pg_delay_ms)" ]]; then
      pg_apply_delay "$PINDB_PG_DELAY_MS" >/dev/null
    fi
    echo "pg: already up (primary $PG_PORT, replicas $PG_REPLICA0_PORT $PG_REPLICA1_PORT, delay $(pg_delay_ms)ms)"
    return 0
  fi

  # an interrupted creation leaves a primary without the ready marker: start over
  if [[ ! -f $PG_BASE/.primary-ready ]]; then
    for n in replica1 replica0 primary; do pg_stop_node "$n"; done
    rm -rf "$PG_BASE/primary" "$PG_BASE/replica0" "$PG_BASE/replica1" "$PG_BASE"/*.tmp
    rm -f "$PG_BASE/replica1.delay_ms"
    pg_init_primary
  fi
  if [[ -n ${PINDB_PG_DELAY_MS:-} ]]; then
    [[ $PINDB_PG_DELAY_MS =~ ^[0-9]+$ ]] || die "PINDB_PG_DELAY_MS must be an integer (ms)"
    echo "$((10#$PINDB_PG_DELAY_MS))" >"$PG_BASE/replica1.delay_ms"
  fi
  [[ -f $PG_BASE/replica1.delay_ms ]] || echo 0 >"$PG_BASE/replica1.delay_ms"
  ((IS_ROOT)) && chown "$PG_USER_OS:" "$PG_BASE/replica1.delay_ms"

  pg_start_node primary || die "pg: primary failed to start"
  if [[ ! -f $PG_BASE/.primary-ready ]]; then
    local have
    have=$(pg_sql "$PG_PORT" "select count(*) from pg_database where datname = 'pindb'") || die "pg: $have"
    if [[ $have == 0 ]]; then
      pg_sql "$PG_PORT" "create database pindb owner postgres" >/dev/null || die "pg: create database pindb failed"
    fi
    touch "$PG_BASE/.primary-ready"
  fi

  # replicas: clone the missing ones (in parallel), then start them
  local pids=() failed=0
  for n in replica0 replica1; do
    if [[ ! -f $PG_BASE/$n/PG_VERSION ]]; then
      rm -rf "${PG_BASE:?}/$n"
      log "pg: pg_basebackup $(pg_node_name "$n")"
      pg_basebackup_replica "$n" 9>&- &
      pids+=($!)
    elif [[ ! -f $PG_BASE/$n/standby.signal ]]; then
      die "pg: $(pg_node_name "$n") is no longer a standby (promoted?); run: scripts/testbed.sh destroy pg"
    fi
  done
  for n in "${pids[@]}"; do wait "$n" || failed=1; done
  ((failed)) && die "pg: pg_basebackup failed"

  pids=()
  for n in replica0 replica1; do
    pg_start_node "$n" &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || failed=1; done
  ((failed)) && die "pg: a replica failed to start"

  pg_wait_streaming replica0 replica1 || die "pg: replication is not streaming"
  echo "pg: up (primary $PG_PORT, replicas $PG_REPLICA0_PORT $PG_REPLICA1_PORT streaming, replica-1 delay $(pg_delay_ms)ms)"
}

pg_stop() {
  [[ -d $PG_BASE ]] || { echo "pg: not created"; return 0; }
  pg_ensure_bins
  local pids=() n failed=0
  # replicas first (P6), in parallel
  for n in replica0 replica1; do
    pg_stop_node "$n" &
    pids+=($!)
  done
  for n in "${pids[@]}"; do wait "$n" || failed=1; done
  pg_stop_node primary || failed=1
  ((failed)) && return 1
  echo "pg: stopped"
}

pg_status() {
  if [[ ! -d $PG_BASE ]]; then
    echo "pg-primary     down (not created)"
    return 3
  fi
  pg_find_bin >/dev/null 2>&1 || true
  PSQL=${PGBIN:+$PGBIN/psql}
  [[ -x ${PSQL:-} ]] || PSQL=$(command -v psql)
  local n rc=0 rep=
  if pg_running primary; then rep=$(pg_replication) || rep=; fi
  for n in "${PG_NODES[@]}"; do
    local name port pid extra=""
    name=$(pg_node_name "$n"); port=$(pg_node_port "$n")
    if pid=$(pg_pid "$n"); then
      if [[ $n != primary ]]; then
        local st
        st=$(grep "^$name|" <<<"$rep" | head -n1 | cut -d'|' -f2)
        extra="replication=${st:-none}"
        [[ $n == replica1 ]] && extra+=" delay=$(pg_delay_ms)ms"
        [[ $st == streaming ]] || { ((rc == 0)) && rc=4; }
      fi
      printf '%-16s up    127.0.0.1:%-6s pid %-8s %s\n' "$name" "$port" "$pid" "$extra"
    else
      printf '%-16s down  127.0.0.1:%s\n' "$name" "$port"
      rc=3
    fi
  done
  return $rc
}

pg_destroy() {
  pg_stop || true
  local n
  for n in "${PG_NODES[@]}"; do
    pg_running "$n" && die "pg: $(pg_node_name "$n") still running; not removing $PG_BASE"
  done
  rm -rf "$PG_BASE"
  echo "pg: destroyed"
}

pg_stop_named() {
  local node
  node=$(pg_node_from_name "$1") || return 1
  pg_ensure_bins
  pg_stop_node "$node" || die "could not stop $1"
  echo "$1: stopped"
}

pg_start_named() {
  local node
  node=$(pg_node_from_name "$1") || return 1
  pg_ensure_bins
  [[ -f $PG_BASE/.primary-ready ]] || die "pg testbed not created; run: scripts/testbed.sh start pg"
  pg_start_node "$node" || die "could not start $1"
  if [[ $node == primary ]]; then
    local want=() n
    for n in replica0 replica1; do pg_running "$n" && want+=("$n"); done
    ((${#want[@]})) && { pg_wait_streaming "${want[@]}" || die "replicas did not reconnect"; }
  elif pg_running primary; then
    pg_wait_streaming "$node" || die "$1 is not streaming"
  else
    log "$1: started, but the primary is down, so it is not streaming"
  fi
  echo "$1: up"
}
