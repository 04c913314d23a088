#!/bin/bash
# bench/run.sh - faultline's HTTP client (bench_http) against wrk, on the
# same static server, with the same connection counts; then how late
# faults fire while a workload runs at high rates (bench_timing).
#
# usage: bench/run.sh [BUILD_DIR=build]
# Builds nothing: BUILD_DIR must hold static_server, bench_http and
# bench_timing. Prints both rates and "ratio faultline/wrk = 0.xx" for each
# connection count, then bench_timing's p50/p99 fault lateness per rate and
# its ratio to a baseline without workload. Bounded: about 40 s; the server
# is stopped by PID on every exit (bench_timing's runner stops its own).
set -euo pipefail

BUILD=${1:-build}
DURATION=5
CONNS="50 200"
SERVER="$BUILD/static_server"
BENCH="$BUILD/bench_http"
WRK=${WRK:-/usr/bin/wrk}

TIMING="$BUILD/bench_timing"

for exe in "$SERVER" "$BENCH" "$TIMING" "$WRK"; do
    if [ ! -x "$exe" ]; then
        echo "run.sh: $exe not found (build the bench targets first)" >&2
        exit 2
    fi
done

SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A free loopback port: random picks, a bounded number of tries.
PORT=
for _ in $(seq 1 20); do
    p=$((20000 + RANDOM % 40000))
    if port_in_use "$p"; then
        continue
    fi
    # The server exits by itself after 120 s, should this script be killed.
    "$SERVER" "$p" 120 2>/dev/null &
    SERVER_PID=$!
    for _ in $(seq 1 50); do
        if port_in_use "$p"; then
            PORT=$p
            break
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$PORT" ] && break
    cleanup
    SERVER_PID=
done
if [ -z "$PORT" ]; then
    echo "run.sh: could not start static_server on a free port" >&2
    exit 1
fi
URL="http://127.0.0.1:$PORT/"
echo "static_server on $URL (pid $SERVER_PID), ${DURATION}s per run, $(nproc) CPUs"

for c in $CONNS; do
    wrk_rate=$(timeout 30 "$WRK" -t1 -c"$c" -d"${DURATION}s" --timeout 5s "$URL" |
        awk '/^Requests\/sec:/ {print $2}')
    fl_rate=$(timeout 30 "$BENCH" "$URL" "$c" "$DURATION" |
        awk '/req\/s/ {print $(NF-1)}')
    if [ -z "$wrk_rate" ] || [ -z "$fl_rate" ]; then
        echo "run.sh: a run produced no rate (wrk='$wrk_rate' faultline='$fl_rate')" >&2
        exit 1
    fi
    printf 'connections %-4s wrk %10.0f req/s   faultline %10.0f req/s\n' "$c" "$wrk_rate" "$fl_rate"
    awk -v a="$fl_rate" -v b="$wrk_rate" 'BEGIN { printf "ratio faultline/wrk = %.2f\n", a / b }'
done

# Fault timing: its own runs (the runner starts static_server itself).
cleanup
SERVER_PID=
timeout 120 "$TIMING" 2
