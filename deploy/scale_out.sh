#!/usr/bin/env bash
# Two critmin replicas on 127.0.0.1:8621/8622 and Debian's nginx in front on
# 127.0.0.1:8680 (sticky sessions, websocket upgrade), all reading one warehouse.
#
#   CRITMIN_DATA_DIR=/srv/critmin/warehouse deploy/scale_out.sh start
#   deploy/scale_out.sh status
#   deploy/scale_out.sh stop
#
# Needs: the repo's .venv (or STREAMLIT=/path/to/streamlit), nginx on PATH
# (apt-get install -y nginx). State (pids, logs, nginx temp files) goes to
# $CRITMIN_RUN_DIR (default /tmp/critmin-scale-out). Only loopback ports are used.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${CRITMIN_RUN_DIR:-/tmp/critmin-scale-out}"
STREAMLIT="${STREAMLIT:-$REPO/.venv/bin/streamlit}"
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
CONF="$REPO/deploy/nginx.conf"
REPLICAS=(8621 8622)
FRONT=8680

wait_healthy() {  # url, seconds
    local url="$1" deadline=$((SECONDS + $2))
    until curl -fsS -o /dev/null "$url/_stcore/health" 2>/dev/null; do
        if ((SECONDS > deadline)); then
            echo "no answer from $url/_stcore/health" >&2
            return 1
        fi
        sleep 0.5
    done
}

start() {
    : "${CRITMIN_DATA_DIR:?set CRITMIN_DATA_DIR to a built warehouse (critmin demo --data-dir DIR)}"
    [[ -f "$CRITMIN_DATA_DIR/manifest.json" ]] || {
        echo "$CRITMIN_DATA_DIR has no manifest.json: build it first" >&2
        exit 1
    }
    mkdir -p "$RUN_DIR/logs" "$RUN_DIR/tmp"
    cd "$REPO"
    for port in "${REPLICAS[@]}"; do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/_stcore/health" 2>/dev/null; then
            echo "port $port is already serving; run '$0 stop' (or stop that process) first" >&2
            exit 1
        fi
        # No subshell or && list here: $! must be the streamlit process itself.
        CRITMIN_DATA_DIR="$CRITMIN_DATA_DIR" nohup "$STREAMLIT" run app.py \
            --server.address 127.0.0.1 --server.port "$port" --server.headless true \
            --server.fileWatcherType none --browser.gatherUsageStats false \
            >"$RUN_DIR/logs/app-$port.log" 2>&1 &
        echo $! >"$RUN_DIR/app-$port.pid"
    done
    for port in "${REPLICAS[@]}"; do
        wait_healthy "http://127.0.0.1:$port" 90
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
}

stop() {
    if [[ -f "$RUN_DIR/nginx.pid" ]]; then
        "$NGINX" -p "$RUN_DIR/" -c "$CONF" -s quit || true
    fi
    for port in "${REPLICAS[@]}"; do
        if [[ -f "$RUN_DIR/app-$port.pid" ]]; then
            kill "$(cat "$RUN_DIR/app-$port.pid")" 2>/dev/null || true
            rm -f "$RUN_DIR/app-$port.pid"
        fi
    done
    echo "stopped"
}

status() {
    for port in "${REPLICAS[@]}" "$FRONT"; do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/_stcore/health" 2>/dev/null; then
            echo "127.0.0.1:$port healthy"
        else
            echo "127.0.0.1:$port down"
        fi
    done
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
