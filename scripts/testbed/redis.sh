# shellcheck shell=bash
# Redis part of the testbed: one redis-server, no persistence. Sourced by scripts/testbed.sh.
#
# Layout ($TB_DIR/redis): redis.pid, redis.log (and the working directory of the server).

REDIS_BASE="$TB_DIR/redis"

redis_ensure_bins() {
  REDIS_SERVER=$(command -v redis-server 2>/dev/null || true)
  [[ -n $REDIS_SERVER ]] && return 0
  apt_install redis-server
  REDIS_SERVER=$(command -v redis-server 2>/dev/null) || die "redis-server still not found after install"
  # the Debian package may have started the system instance on 6379 despite policy-rc.d; that
  # one is a shared system service and is left alone.
}

redis_pid() {
  local pid
  pid=$(pidfile_pid "$REDIS_BASE/redis.pid")
  [[ -n $pid ]] && alive "$pid" redis-server redis-check-rdb && { echo "$pid"; return 0; }
  return 1
}
redis_running() { redis_pid >/dev/null; }

# redis_ping -> 0 when the server answers +PONG (bash /dev/tcp; no redis-cli needed)
redis_ping() {
  local reply=
  { exec 8<>"/dev/tcp/127.0.0.1/$REDIS_PORT"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&8
  IFS= read -r -t 2 reply <&8 || true
  exec 8<&- 8>&-
  [[ $reply == $'+PONG\r' || $reply == '+PONG' ]]
}

redis_start() {
  redis_ensure_bins
  ensure_base_dir
  mkdir -p "$REDIS_BASE"
  if redis_running && redis_ping; then
    echo "redis: already up (port $REDIS_PORT)"
    return 0
  fi
  if ! redis_running; then
    if port_in_use "$REDIS_PORT"; then die "redis: port $REDIS_PORT is already in use"; fi
    rm -f "$REDIS_BASE/redis.pid"
    (cd "$REDIS_BASE" && "$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
      --daemonize yes --pidfile "$REDIS_BASE/redis.pid" --logfile "$REDIS_BASE/redis.log" \
      --dir "$REDIS_BASE" </dev/null >>"$REDIS_BASE/redis.log" 2>&1 9>&-) || { tail_log "$REDIS_BASE/redis.log"; die "redis: failed to start"; }
  fi
  local deadline=$(( $(now_ms) + TB_WAIT_S * 1000 ))
  until redis_ping; do
    if (( $(now_ms) > deadline )); then tail_log "$REDIS_BASE/redis.log"; die "redis: no PONG on port $REDIS_PORT"; fi
    sleep 0.02
  done
  echo "redis: up (port $REDIS_PORT)"
}

redis_stop() {
  local pid
  if pid=$(redis_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" "$TB_WAIT_S" || die "redis: pid $pid did not stop"
    echo "redis: stopped"
  else
    echo "redis: not running"
  fi
}

redis_status() {
  local pid
  if pid=$(redis_pid) && redis_ping; then
    printf '%-16s up    127.0.0.1:%-6s pid %s\n' redis "$REDIS_PORT" "$pid"
    return 0
  fi
  printf '%-16s down  127.0.0.1:%s\n' redis "$REDIS_PORT"
  return 3
}

redis_destroy() {
  redis_stop >/dev/null
  rm -rf "$REDIS_BASE"
  echo "redis: destroyed"
}
