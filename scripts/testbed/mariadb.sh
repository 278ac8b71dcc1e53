# shellcheck shell=bash
# MariaDB part of the testbed: a primary and one GTID replica (MASTER_DELAY settable at
# runtime). Sourced by scripts/testbed.sh after common.sh.
#
# Layout ($TB_DIR/mariadb, owned by the mysql OS user):
#   primary/ replica/         data directories
#   primary.cnf replica.cnf   --defaults-file of each server (rewritten on every start, M3)
#   run/<node>.sock .pid      sockets and pid files
#   <node>.err <node>.out     error log / stdout of mariadbd
#   .ready                    marker: both nodes bootstrapped and replication configured

MY_BASE="$TB_DIR/mariadb"
MY_REPL_USER=repl
MY_REPL_PASS=repl

my_find_bins() {
  MYSQLD=$(command -v mariadbd 2>/dev/null || true)
  [[ -n $MYSQLD ]] || { [[ -x /usr/sbin/mariadbd ]] && MYSQLD=/usr/sbin/mariadbd; }
  MYSQL=$(command -v mariadb 2>/dev/null || true)
  MYADMIN=$(command -v mariadb-admin 2>/dev/null || true)
  MYINSTALL=$(command -v mariadb-install-db 2>/dev/null || true)
  [[ -n $MYSQLD && -n $MYSQL && -n $MYADMIN && -n $MYINSTALL ]]
}

my_ensure_bins() {
  my_find_bins && return 0
  apt_install mariadb-server mariadb-client
  my_find_bins || die "MariaDB binaries still not found after install"
}

as_my() {
  if ((IS_ROOT)); then (cd / && runuser -u "$MY_USER_OS" -- "$@"); else (cd / && "$@"); fi
}

my_node_port() { case $1 in primary) echo "$MY_PORT" ;; replica) echo "$MY_REPLICA_PORT" ;; esac; }
my_node_name() { echo "mariadb-$1"; }
my_sock() { echo "$MY_BASE/run/$1.sock"; }

my_pid() {
  local pid
  pid=$(pidfile_pid "$MY_BASE/run/$1.pid")
  [[ -n $pid ]] && alive "$pid" mariadbd mysqld && { echo "$pid"; return 0; }
  return 1
}
my_running() { my_pid "$1" >/dev/null; }

# my_sql NODE SQL -> runs SQL as root over the node's socket; -N -B output (M3: --no-defaults)
my_sql() {
  "$MYSQL" --no-defaults --connect-timeout=3 -S "$(my_sock "$1")" -uroot -N -B -e "$2" 2>&1
}

my_ping() { "$MYADMIN" --no-defaults --connect-timeout=1 -S "$(my_sock "$1")" -uroot ping >/dev/null 2>&1; }

my_write_cnf() {
  local node=$1 id=1 extra=""
  [[ $node == replica ]] && { id=2; extra="read-only = 1"; }
  cat >"$MY_BASE/$node.cnf.tmp" <<EOF
# written by scripts/testbed.sh on every start; do not edit
[mysqld]
datadir = $MY_BASE/$node
socket = $(my_sock "$node")
pid-file = $MY_BASE/run/$node.pid
log-error = $MY_BASE/$node.err
port = $(my_node_port "$node")
bind-address = 127.0.0.1
skip-name-resolve
server-id = $id
log-bin = mysql-bin
relay-log = relay-bin
binlog-format = ROW
gtid-strict-mode = 1
slave-net-timeout = 4
innodb-log-file-size = 32M
innodb-flush-log-at-trx-commit = 2
max-connections = 200
$extra
EOF
  mv -f "$MY_BASE/$node.cnf.tmp" "$MY_BASE/$node.cnf"
  chmod 644 "$MY_BASE/$node.cnf"
}

my_prepare_dirs() {
  ensure_os_user "$MY_USER_OS"
  ensure_base_dir
  mkdir -p "$MY_BASE/run"
  ((IS_ROOT)) && chown "$MY_USER_OS:" "$MY_BASE" "$MY_BASE/run"
  chmod 750 "$MY_BASE"
}

# my_start_node NODE -> starts mariadbd in its own session (M9) and waits for ping
my_start_node() {
  local node=$1 port
  my_running "$node" && return 0
  port=$(my_node_port "$node")
  if port_in_use "$port"; then
    log "mariadb: port $port (needed by $(my_node_name "$node")) is already in use"
    return 1
  fi
  my_write_cnf "$node"
  local user_opt=()
  ((IS_ROOT)) && user_opt=(--user="$MY_USER_OS")   # M2
  (cd / && exec setsid "$MYSQLD" --defaults-file="$MY_BASE/$node.cnf" "${user_opt[@]}" \
    </dev/null >>"$MY_BASE/$node.out" 2>&1 9>&-) &
  local child=$! deadline=$(( $(now_ms) + TB_WAIT_S * 1000 ))
  until my_ping "$node"; do
    if ! alive "$child" && ! my_running "$node"; then
      tail_log "$MY_BASE/$node.err"
      log "mariadb: $(my_node_name "$node") exited during startup"
      return 1
    fi
    if (( $(now_ms) > deadline )); then
      tail_log "$MY_BASE/$node.err"
      log "mariadb: $(my_node_name "$node") did not answer ping within ${TB_WAIT_S}s"
      return 1
    fi
    sleep 0.03
  done
  return 0
}

my_stop_node() {
  local node=$1 pid
  pid=$(my_pid "$node") || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$pid" "$TB_WAIT_S" || { log "mariadb: $(my_node_name "$node") (pid $pid) did not stop"; return 1; }
}

# my_slave_field FIELD <<< "$(my_slave_status)" -> value of one SHOW SLAVE STATUS field
my_slave_status() {
  # M8: vertical output needs the field names, so no -N here
  "$MYSQL" --no-defaults --connect-timeout=3 -S "$(my_sock replica)" -uroot -e 'SHOW SLAVE STATUS\G' 2>&1
}
my_slave_field() { awk -v f="$1" '{ sub(/^ +/, "") } index($0, f ": ") == 1 { print substr($0, length(f) + 3); exit }'; }

# 0 when both slave threads run; prints "io sql delay"
my_replicating() {
  local st io sql
  st=$(my_slave_status) || return 1
  io=$(my_slave_field Slave_IO_Running <<<"$st")
  sql=$(my_slave_field Slave_SQL_Running <<<"$st")
  [[ $io == Yes && $sql == Yes ]]
}

my_wait_replicating() {
  local deadline=$(( $(now_ms) + TB_WAIT_S * 1000 )) st io sql err
  while :; do
    st=$(my_slave_status) || st=
    io=$(my_slave_field Slave_IO_Running <<<"$st")
    sql=$(my_slave_field Slave_SQL_Running <<<"$st")
    [[ $io == Yes && $sql == Yes ]] && return 0
    if [[ $sql == No ]]; then
      err=$(my_slave_field Last_SQL_Error <<<"$st")
      [[ -n $err ]] && { log "mariadb: replica SQL thread stopped: $err"; return 1; }
    fi
    if [[ $io == No ]]; then
      err=$(my_slave_field Last_IO_Error <<<"$st")
      [[ -n $err ]] && { log "mariadb: replica IO thread stopped: $err"; return 1; }
    fi
    if (( $(now_ms) > deadline )); then
      log "mariadb: replication not running after ${TB_WAIT_S}s (io=$io sql=$sql)"
      return 1
    fi
    sleep 0.05
  done
}

my_current_delay() { my_slave_status | my_slave_field SQL_Delay; }

my_apply_delay() {
  local s=$1 out
  [[ $s =~ ^[0-9]+$ ]] || die "mariadb-delay: expected seconds (integer >= 0), got '$s'"
  s=$((10#$s))
  my_running replica || die "mariadb-delay: the MariaDB replica is not running"
  out=$(my_sql replica "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = $s; START SLAVE") || die "mariadb-delay: $out"
  my_wait_replicating || die "mariadb-delay: replication did not restart"
  local cur
  cur=$(my_current_delay)
  [[ $cur == "$s" ]] || die "mariadb-delay: SQL_Delay is '$cur', expected $s"
  echo "mariadb: mariadb-replica MASTER_DELAY=$s"
}

my_create() {
  local n
  for n in replica primary; do my_stop_node "$n" || die "mariadb: cannot stop $n"; done
  rm -rf "${MY_BASE:?}/primary" "${MY_BASE:?}/replica" "$MY_BASE"/*.err "$MY_BASE"/*.out "$MY_BASE/run"/*
  my_write_cnf primary
  my_write_cnf replica
  log "mariadb: mariadb-install-db"
  as_my "$MYINSTALL" --defaults-file="$MY_BASE/primary.cnf" --auth-root-authentication-method=normal \
    --skip-test-db >"$MY_BASE/install-db.log" 2>&1 9>&- || { tail_log "$MY_BASE/install-db.log"; die "mariadb-install-db failed"; }
  # M5: the replica is a cold copy of the freshly bootstrapped primary; everything created
  # afterwards on the primary is binlogged and replicates.
  as_my cp -a "$MY_BASE/primary" "$MY_BASE/replica" || die "mariadb: copying the datadir failed"
  rm -f "$MY_BASE/replica"/mysql-bin.* "$MY_BASE/replica"/relay-bin.* "$MY_BASE/replica"/master.info \
    "$MY_BASE/replica"/relay-log.info

  local pids=() failed=0
  for n in primary replica; do my_start_node "$n" & pids+=($!); done
  for n in "${pids[@]}"; do wait "$n" || failed=1; done
  if ((failed)); then
    my_stop_node replica; my_stop_node primary   # nothing half-created keeps running
    die "mariadb: a node failed to start"
  fi

  local out delay=${PINDB_MARIADB_DELAY_S:-0}
  [[ $delay =~ ^[0-9]+$ ]] || die "PINDB_MARIADB_DELAY_S must be an integer (seconds)"
  # M6: root over TCP must not bypass read_only on the replica (REVOKE replicates)
  out=$(my_sql primary "
    CREATE USER '$MY_REPL_USER'@'127.0.0.1' IDENTIFIED BY '$MY_REPL_PASS';
    GRANT REPLICATION SLAVE ON *.* TO '$MY_REPL_USER'@'127.0.0.1';
    REVOKE READ_ONLY ADMIN ON *.* FROM 'root'@'127.0.0.1';
    CREATE DATABASE IF NOT EXISTS pindb;") || die "mariadb: primary setup failed: $out"
  if [[ -n $(my_sql primary "SELECT 1 FROM mysql.global_priv WHERE user = 'root' AND host = '::1'") ]]; then
    out=$(my_sql primary "REVOKE READ_ONLY ADMIN ON *.* FROM 'root'@'::1'") || die "mariadb: $out"
  fi
  out=$(my_sql replica "
    CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $MY_PORT,
      MASTER_USER = '$MY_REPL_USER', MASTER_PASSWORD = '$MY_REPL_PASS',
      MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, MASTER_DELAY = $((10#$delay));
    START SLAVE;") || die "mariadb: replica setup failed: $out"
  touch "$MY_BASE/.ready"
}

my_start() {
  my_ensure_bins
  my_prepare_dirs

  if my_running primary && my_running replica && my_replicating; then
    if [[ -n ${PINDB_MARIADB_DELAY_S:-} && $PINDB_MARIADB_DELAY_S != "$(my_current_delay)" ]]; then
      my_apply_delay "$PINDB_MARIADB_DELAY_S" >/dev/null
    fi
    echo "mariadb: already up (primary $MY_PORT, replica $MY_REPLICA_PORT, MASTER_DELAY $(my_current_delay))"
    return 0
  fi

  if [[ ! -f $MY_BASE/.ready ]]; then
    my_create
  else
    # primary first: a replica started in parallel could try to connect before the primary
    # listens and then waits MASTER_CONNECT_RETRY (1 s) for its next attempt
    my_start_node primary || die "mariadb: the primary failed to start"
    my_start_node replica || die "mariadb: the replica failed to start"
  fi
  my_wait_replicating || die "mariadb: replication is not running"
  if [[ -n ${PINDB_MARIADB_DELAY_S:-} && $PINDB_MARIADB_DELAY_S != "$(my_current_delay)" ]]; then
    my_apply_delay "$PINDB_MARIADB_DELAY_S" >/dev/null
  fi
  echo "mariadb: up (primary $MY_PORT, replica $MY_REPLICA_PORT replicating, MASTER_DELAY $(my_current_delay))"
}

my_stop() {
  [[ -d $MY_BASE ]] || { echo "mariadb: not created"; return 0; }
  my_stop_node replica || return 1
  my_stop_node primary || return 1
  echo "mariadb: stopped"
}

my_status() {
  if [[ ! -d $MY_BASE ]]; then
    echo "mariadb-primary  down (not created)"
    return 3
  fi
  my_find_bins || true
  local n rc=0 pid
  for n in primary replica; do
    local extra=""
    if pid=$(my_pid "$n"); then
      if [[ $n == replica ]]; then
        local st io sql delay
        st=$(my_slave_status) || st=
        io=$(my_slave_field Slave_IO_Running <<<"$st")
        sql=$(my_slave_field Slave_SQL_Running <<<"$st")
        delay=$(my_slave_field SQL_Delay <<<"$st")
        extra="io=${io:-?} sql=${sql:-?} delay=${delay:-?}s"
        [[ $io == Yes && $sql == Yes ]] || { ((rc == 0)) && rc=4; }
      fi
      printf '%-16s up    127.0.0.1:%-6s pid %-8s %s\n' "$(my_node_name "$n")" "$(my_node_port "$n")" "$pid" "$extra"
    else
      printf '%-16s down  127.0.0.1:%s\n' "$(my_node_name "$n")" "$(my_node_port "$n")"
      rc=3
    fi
  done
  return $rc
}

my_destroy() {
  my_stop || true
  my_running primary && die "mariadb: primary still running; not removing $MY_BASE"
  my_running replica && die "mariadb: replica still running; not removing $MY_BASE"
  rm -rf "$MY_BASE"
  echo "mariadb: destroyed"
}

my_stop_named() {
  local node=${1#mariadb-}
  [[ $node == primary || $node == replica ]] || return 1
  my_find_bins || true
  my_stop_node "$node" || die "could not stop $1"
  echo "$1: stopped"
}

my_start_named() {
  local node=${1#mariadb-}
  [[ $node == primary || $node == replica ]] || return 1
  my_ensure_bins
  [[ -f $MY_BASE/.ready ]] || die "mariadb testbed not created; run: scripts/testbed.sh start mariadb"
  my_start_node "$node" || die "could not start $1"
  if my_running primary && my_running replica; then
    my_wait_replicating || die "mariadb replication did not resume"
  fi
  echo "$1: up"
}
