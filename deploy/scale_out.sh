#!/usr/bin/env bash
# Two critmin replicas on 127.0.0.1:8621/8622 and Debian's nginx in front on
# 127.0.0.1:8680 (sticky sessions, websocket upgrade), all reading one warehouse,
# and a watcher that replaces a replica whose health check stops answering.
#
#   CRITMIN_DATA_DIR=/srv/critmin/warehouse deploy/scale_out.sh start
#   deploy/scale_out.sh status
#   deploy/scale_out.sh watch      # the watcher in the foreground (start runs it in the background)
#   deploy/scale_out.sh stop
#
# Liveness: the watcher GETs each replica's /_stcore/health every WATCH_INTERVAL s with a
# HEALTH_TIMEOUT s timeout. A replica that fails WATCH_FAILS polls in a row (or whose
# process is gone) is replaced: SIGTERM, SIGKILL if it is still there after STOP_GRACE s,
# then started again on the same port. Each replacement is logged with a timestamp to
# $RUN_DIR/logs/watch.log. With the defaults (5 s, 3 s, 3, 10 s) a failed poll costs
# 3 s + 5 s, so a frozen replica is given up 17-24 s after it stops answering, SIGKILLed
# 10 s later and answering again about a second after that (34 s measured, kill -STOP).
# `stop` ends the watcher first, then nginx, then every replica, TERM then KILL: a
# replica that ignores SIGTERM (a frozen process) is killed after STOP_GRACE s.
#
# Needs: the repo's .venv (or STREAMLIT=/path/to/streamlit), curl, nginx on PATH
# (apt-get install -y nginx). State (pids, logs, nginx temp files) goes to
# $CRITMIN_RUN_DIR (default /tmp/critmin-scale-out). Only loopback ports are used.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SELF="$REPO/deploy/scale_out.sh"
RUN_DIR="${CRITMIN_RUN_DIR:-/tmp/critmin-scale-out}"
STREAMLIT="${STREAMLIT:-$REPO/.venv/bin/streamlit}"
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
CONF="$REPO/deploy/nginx.conf"
REPLICAS=(8621 8622)
FRONT=8680
WATCH_INTERVAL="${CRITMIN_WATCH_INTERVAL:-5}"   # seconds between polls of one replica
HEALTH_TIMEOUT="${CRITMIN_HEALTH_TIMEOUT:-3}"   # a poll slower than this is a failure
WATCH_FAILS="${CRITMIN_WATCH_FAILS:-3}"         # failures in a row before replacing
STOP_GRACE="${CRITMIN_STOP_GRACE:-10}"          # seconds between SIGTERM and SIGKILL
START_TIMEOUT="${CRITMIN_START_TIMEOUT:-90}"    # seconds a (re)started replica has to answer

log() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

healthy() {  # url: one health poll, bounded by HEALTH_TIMEOUT
    curl -fsS -o /dev/null --max-time "$HEALTH_TIMEOUT" "$1/_stcore/health" 2>/dev/null
}

wait_healthy() {  # url, seconds
    local url="$1" deadline=$((SECONDS + $2))
    until healthy "$url"; do
        if ((SECONDS > deadline)); then
            echo "no answer from $url/_stcore/health" >&2
            return 1
        fi
        sleep 0.5
    done
}

replica_pid() {  # port: the pid we started on it, if that process is still ours
    local file="$RUN_DIR/app-$1.pid" pid
    [[ -f "$file" ]] || return 1
    pid="$(cat "$file")"
    # Guard against a recycled pid: it must still be our streamlit on that port.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--server.port $1 " || return 1
    echo "$pid"
}

alive() {  # pid: running (a zombie waiting to be reaped counts as gone)
    kill -0 "$1" 2>/dev/null || return 1
    [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]
}

stop_pid() {  # pid, what: SIGTERM, then SIGKILL after STOP_GRACE seconds
    local pid="$1" what="$2" deadline
    kill -TERM "$pid" 2>/dev/null || return 0
    deadline=$((SECONDS + STOP_GRACE))
    while alive "$pid"; do
        if ((SECONDS >= deadline)); then
            log "$what (pid $pid) ignored SIGTERM for ${STOP_GRACE}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    deadline=$((SECONDS + 5))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    wait "$pid" 2>/dev/null || true # reaps it if it is a child of this shell
}

start_replica() {  # port
    local port="$1"
    # No subshell or && list here: $! must be the streamlit process itself.
    CRITMIN_DATA_DIR="$CRITMIN_DATA_DIR" nohup "$STREAMLIT" run serve.py \
        --server.address 127.0.0.1 --server.port "$port" --server.headless true \
        --server.fileWatcherType none --browser.gatherUsageStats false \
        >>"$RUN_DIR/logs/app-$port.log" 2>&1 &
    echo $! >"$RUN_DIR/app-$port.pid"
}

stop_replica() {  # port
    local pid
    if pid="$(replica_pid "$1")"; then
        stop_pid "$pid" "replica $1"
    fi
    rm -f "$RUN_DIR/app-$1.pid"
}

check_data_dir() {
    : "${CRITMIN_DATA_DIR:?set CRITMIN_DATA_DIR to a built warehouse (critmin demo --data-dir DIR)}"
    [[ -f "$CRITMIN_DATA_DIR/manifest.json" ]] || {
        echo "$CRITMIN_DATA_DIR has no manifest.json: build it first" >&2
        exit 1
    }
}

start() {
    check_data_dir
    mkdir -p "$RUN_DIR/logs" "$RUN_DIR/tmp"
    cd "$REPO"
    for port in "${REPLICAS[@]}"; do
        if healthy "http://127.0.0.1:$port"; then
            echo "port $port is already serving; run '$0 stop' (or stop that process) first" >&2
            exit 1
        fi
        start_replica "$port"
    done
    for port in "${REPLICAS[@]}"; do
        wait_healthy "http://127.0.0.1:$port" "$START_TIMEOUT"
        kill -0 "$(cat "$RUN_DIR/app-$port.pid")" || {
            echo "replica $port exited; see $RUN_DIR/logs/app-$port.log" >&2
            exit 1
        }
        echo "replica  http://127.0.0.1:$port  pid $(cat "$RUN_DIR/app-$port.pid")"
    done
    "$NGINX" -t -q -p "$RUN_DIR/" -c "$CONF"
    "$NGINX" -p "$RUN_DIR/" -c "$CONF"
    wait_healthy "http://127.0.0.1:$FRONT" 30
    echo "nginx    http://127.0.0.1:$FRONT  (pid $(cat "$RUN_DIR/nginx.pid"), warehouse $CRITMIN_DATA_DIR)"
    CRITMIN_DATA_DIR="$CRITMIN_DATA_DIR" nohup "$SELF" watch >>"$RUN_DIR/logs/watch.log" 2>&1 &
    echo $! >"$RUN_DIR/watch.pid"
    echo "watcher  pid $(cat "$RUN_DIR/watch.pid"): every ${WATCH_INTERVAL}s, ${HEALTH_TIMEOUT}s timeout, replaces after ${WATCH_FAILS} failures (log $RUN_DIR/logs/watch.log)"
}

replace() {  # port, reason
    local port="$1"
    log "replica $port: $2; replacing it"
    stop_replica "$port"
    start_replica "$port"
    if wait_healthy "http://127.0.0.1:$port" "$START_TIMEOUT"; then
        log "replica $port: serving again (pid $(cat "$RUN_DIR/app-$port.pid"))"
    else
        log "replica $port: did not answer within ${START_TIMEOUT}s of its start; see $RUN_DIR/logs/app-$port.log"
    fi
}

watch() {
    check_data_dir
    mkdir -p "$RUN_DIR/logs"
    cd "$REPO"
    declare -A failures=()
    trap 'log "watcher stopped"; exit 0' TERM INT
    log "watching ${REPLICAS[*]}: every ${WATCH_INTERVAL}s, ${HEALTH_TIMEOUT}s timeout, replace after ${WATCH_FAILS} failures, SIGKILL ${STOP_GRACE}s after SIGTERM"
    while true; do
        for port in "${REPLICAS[@]}"; do
            if ! replica_pid "$port" >/dev/null; then
                replace "$port" "process gone"
                failures[$port]=0
            elif healthy "http://127.0.0.1:$port"; then
                failures[$port]=0
            else
                failures[$port]=$((${failures[$port]:-0} + 1))
                log "replica $port: health check failed (${failures[$port]}/${WATCH_FAILS})"
                if ((failures[$port] >= WATCH_FAILS)); then
                    replace "$port" "no health answer in ${WATCH_FAILS} polls"
                    failures[$port]=0
                fi
            fi
        done
        # In the background so that the TERM trap runs at once, not after the sleep.
        sleep "$WATCH_INTERVAL" &
        wait $! || true
    done
}

stop() {
    if [[ -f "$RUN_DIR/watch.pid" ]]; then
        # The watcher first, so that it does not start what is being stopped.
        stop_pid "$(cat "$RUN_DIR/watch.pid")" "watcher"
        rm -f "$RUN_DIR/watch.pid"
    fi
    if [[ -f "$RUN_DIR/nginx.pid" ]]; then
        "$NGINX" -p "$RUN_DIR/" -c "$CONF" -s quit || true
    fi
    for port in "${REPLICAS[@]}"; do
        stop_replica "$port"
    done
    echo "stopped"
}

status() {
    for port in "${REPLICAS[@]}" "$FRONT"; do
        if healthy "http://127.0.0.1:$port"; then
            echo "127.0.0.1:$port healthy"
        else
            echo "127.0.0.1:$port down"
        fi
    done
    if [[ -f "$RUN_DIR/watch.pid" ]] && kill -0 "$(cat "$RUN_DIR/watch.pid")" 2>/dev/null; then
        echo "watcher running (pid $(cat "$RUN_DIR/watch.pid"))"
    else
        echo "watcher not running"
    fi
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
status) status ;;
watch) watch ;;
*)
    echo "usage: $0 start|stop|status|watch" >&2
    exit 2
    ;;
esac
