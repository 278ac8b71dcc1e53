# shellcheck shell=bash
# pgpool-II in front of the three PostgreSQL nodes (benchmarks only; started only by
# `scripts/testbed.sh start pgpool`). Sourced by scripts/testbed.sh after common.sh and pg.sh.
#
# Layout ($TB_DIR/pgpool): pgpool.conf pcp.conf pool_hba.conf pgpool.pid pgpool.log run/ (sockets)
# pgpool runs as the invoking user (root is fine) and connects to the PG nodes over 127.0.0.1.

PGPOOL_BASE="$TB_DIR/pgpool"

pgpool_find_bin() { PGPOOL_BIN=$(command -v pgpool 2>/dev/null || true); [[ -n $PGPOOL_BIN ]]; }

pgpool_ensure_bins() {
  pgpool_find_bin && return 0
  apt_install pgpool2
  pgpool_find_bin || die "pgpool still not found after installing pgpool2"
  # The Debian package's own instance (5432 backend / 9999) must not keep running. policy-rc.d
  # normally prevents the start; if it ran anyway, stop exactly that instance via its pid file.
  local conf=/etc/pgpool2/pgpool.conf pidf pid
  if [[ -f $conf ]]; then
    pidf=$(sed -n "s/^[[:space:]]*pid_file_name[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "$conf" | tail -n1)
    for pidf in "${pidf:-}" /run/postgresql/pgpool.pid /var/run/postgresql/pgpool.pid /run/pgpool/pgpool.pid; do
      [[ -n $pidf ]] || continue
      pid=$(pidfile_pid "$pidf")
      if [[ -n $pid ]] && alive "$pid" pgpool; then
        log "pgpool: stopping the Debian package's pgpool (pid $pid) started by the install"
        "$PGPOOL_BIN" -f "$conf" -m fast stop >/dev/null 2>&1 || kill -INT "$pid" 2>/dev/null || true
        wait_gone "$pid" 20 || true
      fi
    done
  fi
}

pgpool_pid() {
  local pid
  pid=$(pidfile_pid "$PGPOOL_BASE/pgpool.pid")
  [[ -n $pid ]] && alive "$pid" pgpool && { echo "$pid"; return 0; }
  return 1
}
pgpool_running() { pgpool_pid >/dev/null; }

pgpool_write_conf() {
  mkdir -p "$PGPOOL_BASE/run"
  local i node port
  {
    cat <<EOF
# written by scripts/testbed.sh on every start; do not edit
backend_clustering_mode = 'streaming_replication'
listen_addresses = '127.0.0.1'
port = $PGPOOL_PORT
unix_socket_directories = '$PGPOOL_BASE/run'
pcp_listen_addresses = '127.0.0.1'
pcp_port = $PGPOOL_PCP_PORT
pcp_socket_dir = '$PGPOOL_BASE/run'
wd_ipc_socket_dir = '$PGPOOL_BASE/run'
pid_file_name = '$PGPOOL_BASE/pgpool.pid'
logdir = '$PGPOOL_BASE'
log_destination = 'stderr'
logging_collector = off
use_watchdog = off
enable_pool_hba = off
pool_passwd = ''
ssl = off
num_init_children = 32
max_pool = 4
connection_cache = on
load_balance_mode = on
sr_check_period = 0
sr_check_user = 'postgres'
sr_check_password = ''
sr_check_database = 'postgres'
health_check_period = 0
failover_on_backend_error = off
memory_cache_enabled = off
EOF
    i=0
    for node in primary replica0 replica1; do
      port=$(pg_node_port "$node")
      cat <<EOF
backend_hostname$i = '127.0.0.1'
backend_port$i = $port
backend_weight$i = 1
backend_data_directory$i = '$PG_BASE/$node'
backend_flag$i = 'DISALLOW_TO_FAILOVER'
backend_application_name$i = '$(pg_node_name "$node")'
EOF
      i=$((i + 1))
    done
  } >"$PGPOOL_BASE/pgpool.conf"
  : >"$PGPOOL_BASE/pcp.conf"
  echo "host all all 127.0.0.1/32 trust" >"$PGPOOL_BASE/pool_hba.conf"
}

pgpool_sql() {
  PGCONNECT_TIMEOUT=3 "$PSQL" -X -q -A -t -F '|' -h 127.0.0.1 -p "$PGPOOL_PORT" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 -c "$1" 2>&1
}

# 0 when pgpool answers and lists three backends, all up (or "waiting" = up, no connection yet)
pgpool_nodes_up() {
  local out n
  out=$(pgpool_sql "show pool_nodes") || return 1
  n=$(awk -F'|' '$4 == "up" || $4 == "waiting" { c++ } END { print c + 0 }' <<<"$out")
  [[ $n == 3 ]]
}

pgpool_start() {
  pgpool_ensure_bins
  pg_ensure_bins
  ensure_base_dir
  mkdir -p "$PGPOOL_BASE"
  if pgpool_running && pgpool_nodes_up; then
    echo "pgpool: already up (port $PGPOOL_PORT)"
    return 0
  fi
  local child=""
  if ! pgpool_running; then
    pg_running primary || die "pgpool: the PostgreSQL testbed is not running; run: scripts/testbed.sh start pg pgpool"
    port_in_use "$PGPOOL_PORT" && die "pgpool: port $PGPOOL_PORT is already in use"
    port_in_use "$PGPOOL_PCP_PORT" && die "pgpool: pcp port $PGPOOL_PCP_PORT is already in use"
    pgpool_write_conf
    rm -f "$PGPOOL_BASE/pgpool.pid"
    # -n: no daemon (setsid detaches it), -D: discard the saved node status
    (cd / && exec setsid "$PGPOOL_BIN" -n -D -f "$PGPOOL_BASE/pgpool.conf" -F "$PGPOOL_BASE/pcp.conf" \
      -a "$PGPOOL_BASE/pool_hba.conf" </dev/null >>"$PGPOOL_BASE/pgpool.log" 2>&1 9>&-) &
    child=$!
  fi
  local deadline=$(( $(now_ms) + TB_WAIT_S * 1000 ))
  until pgpool_nodes_up; do
    if [[ -n $child ]] && ! alive "$child" && ! pgpool_running; then
      tail_log "$PGPOOL_BASE/pgpool.log"; die "pgpool: exited during startup"
    fi
    if (( $(now_ms) > deadline )); then
      tail_log "$PGPOOL_BASE/pgpool.log"; pgpool_sql "show pool_nodes" >&2; die "pgpool: not ready after ${TB_WAIT_S}s"
    fi
    sleep 0.1
  done
  echo "pgpool: up (port $PGPOOL_PORT, backends $PG_PORT $PG_REPLICA0_PORT $PG_REPLICA1_PORT)"
}

pgpool_stop() {
  local pid
  if pid=$(pgpool_pid); then
    kill -INT "$pid" 2>/dev/null || true   # SIGINT = fast shutdown
    wait_gone "$pid" "$TB_WAIT_S" || die "pgpool: pid $pid did not stop"
    echo "pgpool: stopped"
  else
    echo "pgpool: not running"
  fi
}

pgpool_status() {
  local pid
  pg_find_bin >/dev/null 2>&1 || true
  PSQL=${PGBIN:+$PGBIN/psql}
  [[ -x ${PSQL:-} ]] || PSQL=$(command -v psql)
  if pid=$(pgpool_pid) && pgpool_nodes_up; then
    printf '%-16s up    127.0.0.1:%-6s pid %s\n' pgpool "$PGPOOL_PORT" "$pid"
    return 0
  fi
  printf '%-16s down  127.0.0.1:%s\n' pgpool "$PGPOOL_PORT"
  return 3
}

pgpool_destroy() {
  pgpool_stop >/dev/null
  rm -rf "$PGPOOL_BASE"
  echo "pgpool: destroyed"
}
