# shellcheck shell=bash
# Shared settings and helpers for scripts/testbed.sh. Sourced, never executed.
# See the header of scripts/testbed.sh for the meaning of every variable.

TB_DIR="${PINDB_TESTBED_DIR:-/tmp/pindb-tb}"
TB_DIR="${TB_DIR%/}"

PG_PORT="${PINDB_PG_PORT:-25432}"
PG_REPLICA0_PORT="${PINDB_PG_REPLICA0_PORT:-$((PG_PORT + 1))}"
PG_REPLICA1_PORT="${PINDB_PG_REPLICA1_PORT:-$((PG_PORT + 2))}"
MY_PORT="${PINDB_MARIADB_PORT:-23306}"
MY_REPLICA_PORT="${PINDB_MARIADB_REPLICA_PORT:-$((MY_PORT + 1))}"
REDIS_PORT="${PINDB_REDIS_PORT:-26379}"
PGPOOL_PORT="${PINDB_PGPOOL_PORT:-29999}"
PGPOOL_PCP_PORT="${PINDB_PGPOOL_PCP_PORT:-$((PGPOOL_PORT - 1))}"

PG_USER_OS="${PINDB_PG_OS_USER:-postgres}"     # OS user that owns and runs the PG nodes (when root)
MY_USER_OS="${PINDB_MARIADB_OS_USER:-mysql}"   # OS user mariadbd drops to (when root)

TB_WAIT_S="${PINDB_TESTBED_TIMEOUT_S:-30}"     # upper bound for every readiness wait

IS_ROOT=0
[[ $EUID -eq 0 ]] && IS_ROOT=1

log() { printf '%s\n' "$*" >&2; }
die() { printf 'testbed: %s\n' "$*" >&2; exit 1; }

# Monotonic-enough milliseconds for deadlines.
now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }

# alive PID [COMM...] -> 0 when PID exists, is not a zombie/dead (pitfall P5) and, when COMM
# names are given, /proc/PID/comm is one of them (protects against PID reuse).
alive() {
  local pid=$1; shift
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  local stat
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  # field 3 (state) follows the ")" that closes the comm field
  local rest=${stat##*) }
  local state=${rest%% *}
  [[ $state == Z || $state == X || $state == x ]] && return 1
  if (($# > 0)); then
    local comm c
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    for c in "$@"; do [[ $comm == "$c" ]] && return 0; done
    return 1
  fi
  return 0
}

# zombie PID -> 0 when PID exists as a zombie (dead, not yet reaped by PID 1)
zombie() {
  local stat rest
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  rest=${stat##*) }
  [[ ${rest%% *} == Z ]]
}

# first line of a pid file, or nothing
pidfile_pid() { [[ -f $1 ]] && head -n1 "$1" 2>/dev/null | tr -dc '0-9'; return 0; }

# wait_gone PID SECONDS -> waits until PID is dead or a zombie
wait_gone() {
  local pid=$1 deadline=$(( $(now_ms) + $2 * 1000 ))
  while alive "$pid"; do
    (( $(now_ms) > deadline )) && return 1
    sleep 0.02
  done
  return 0
}

# wait_reaped PID SECONDS -> waits until PID no longer exists at all (zombie reaped, P5)
wait_reaped() {
  local pid=$1 deadline=$(( $(now_ms) + $2 * 1000 ))
  while [[ -e /proc/$pid ]]; do
    (( $(now_ms) > deadline )) && return 1
    sleep 0.05
  done
  return 0
}

port_in_use() {
  # 0 when something listens on 127.0.0.1:$1 (or any address on that port)
  local hex
  hex=$(printf '%04X' "$1")
  grep -Eq "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

ensure_os_user() {
  local user=$1
  ((IS_ROOT)) || return 0
  id -u "$user" >/dev/null 2>&1 && return 0
  log "testbed: creating system user $user"
  useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin "$user" \
    || die "could not create user $user"
}

# apt_install PKG... — installs Debian packages when root, with a policy-rc.d that forbids
# services from starting (pitfall M1); otherwise prints the command and fails.
apt_install() {
  if ((!IS_ROOT)); then
    die "missing packages: run as root: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $*"
  fi
  # Several test beds may start at once (npm test runs Node lines in parallel lanes): one apt-get
  # at a time (the policy file included), or the second fails on the dpkg lock. Installing a
  # package twice is harmless.
  local rc=0 lock
  exec {lock}>/tmp/pindb-testbed-apt.lock
  flock -w 600 "$lock" || die "another apt-get of the test bed did not finish within 600 s"
  local policy=/usr/sbin/policy-rc.d created=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && created=1
  fi
  log "testbed: installing $* (apt-get)"
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 "$@"
  } >&2 || rc=$?
  ((created)) && rm -f "$policy"
  exec {lock}>&-
  ((rc == 0)) || die "apt-get install $* failed (rc=$rc)"
  # The package may have enabled a system service; make sure it is not running/enabled.
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    local pkg
    for pkg in "$@"; do
      case $pkg in
        mariadb-server) systemctl disable --now mariadb >/dev/null 2>&1 || true ;;
        pgpool2) systemctl disable --now pgpool2 >/dev/null 2>&1 || true ;;
        redis-server) systemctl disable --now redis-server >/dev/null 2>&1 || true ;;
        postgresql-*) systemctl disable --now postgresql >/dev/null 2>&1 || true ;;
      esac
    done
  fi
}

# Lock so that two concurrent invocations do not both initdb/start. Daemons must not inherit
# the lock fd: every daemon launch closes it with 9>&-.
tb_lock() {
  mkdir -p "$(dirname "$TB_DIR")"
  exec 9>"$TB_DIR.lock" || die "cannot open lock $TB_DIR.lock"
  flock -w 120 9 || die "timed out waiting for lock $TB_DIR.lock"
}

ensure_base_dir() {
  mkdir -p "$TB_DIR" || die "cannot create $TB_DIR"
  chmod 755 "$TB_DIR"
  local sock_len=$(( ${#TB_DIR} + 30 ))
  ((sock_len <= 107)) || die "PINDB_TESTBED_DIR is too long for unix socket paths (max ~77 chars): $TB_DIR"
}

tail_log() {
  local f=$1
  [[ -f $f ]] || return 0
  log "---- last lines of $f ----"
  tail -n 20 "$f" >&2
  log "----"
}
