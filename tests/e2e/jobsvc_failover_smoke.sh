#!/usr/bin/env bash
# End-to-end smoke test of the Redis-failover failure mode of the demo SUT
# (examples/jobsvc): a Redis primary + replica watched by 3 sentinels, two
# jobsvc replicas that find the primary through the sentinels. The primary
# is SIGKILLed, jobs are posted to both replicas during the outage (so both
# hit the Redis error and fall back to their file cache), the sentinels
# promote the replica, and then:
#   1. --redis-fallback recover: both replicas report store=redis again
#      within a few seconds, at the promoted primary; every job accepted
#      during the outage is visible and completes on the other replica;
#      a new job posted on one is visible on the other.
#   2. --redis-fallback sticky (via --profile buggy, and as an override):
#      the replicas that hit the error stay on store=file while /healthz
#      says 200 "ok"; a job posted on one is 404 on the other and absent
#      from Redis: the coordination layer is split, every check green.
# Usage: FL_BUILD_DIR=<build dir with jobsvc> bash tests/e2e/jobsvc_failover_smoke.sh
WORK_PREFIX=jobsvc_failover
source "$(dirname "$0")/lib_jobsvc.sh"

rcli() { local port=$1; shift; redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null || true; }

# `sentinel resolve-hostnames` exists since Redis 6.2.
REDIS_VERSION=$(redis-server --version | sed -n 's/.* v=\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')
read -r RV_MAJOR RV_MINOR <<<"${REDIS_VERSION:-0 0}"
RESOLVE_HOSTNAMES=0
if [ "$RV_MAJOR" -gt 6 ] || { [ "$RV_MAJOR" -eq 6 ] && [ "$RV_MINOR" -ge 2 ]; }; then
  RESOLVE_HOSTNAMES=1
fi
if command -v redis-sentinel >/dev/null; then
  SENTINEL_CMD=(redis-sentinel)
else
  SENTINEL_CMD=(redis-server)
fi
echo "redis $RV_MAJOR.$RV_MINOR, sentinel via ${SENTINEL_CMD[0]}, resolve-hostnames option: $RESOLVE_HOSTNAMES"

# ---- processes --------------------------------------------------------------

# wait_exit PID : waits (bounded, 10s) for a process we started to exit.
wait_exit() {
  local pid=$1
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    fail "pid $pid still alive after 10s"
  fi
  { wait "$pid"; } 2>/dev/null || true
}

stop_pid() {
  kill "-$2" "$1" 2>/dev/null || true
  wait_exit "$1"
}

# start_redis NAME PORT ARGS... : sets LAST_PID once it answers PING (5s).
start_redis() {
  local name=$1 port=$2
  shift 2
  mkdir -p "$WORK/$name"
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK/$name" \
    "$@" >"$WORK/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  for _ in $(seq 1 50); do
    [ "$(rcli "$port" ping)" = PONG ] && return 0
    sleep 0.1
  done
  fail "redis $name did not answer on $port within 5s"
}

# start_sentinel NAME PORT PRIMARY_PORT : sets LAST_PID once it answers PING.
start_sentinel() {
  local name=$1 port=$2 primary=$3 conf=$WORK/$1.conf
  mkdir -p "$WORK/$name"
  {
    echo "port $port"
    echo "bind 127.0.0.1"
    echo "daemonize no"
    echo "dir $WORK/$name"
    [ "$RESOLVE_HOSTNAMES" = 1 ] && echo "sentinel resolve-hostnames no"
    echo "sentinel monitor mymaster 127.0.0.1 $primary 2"
    echo "sentinel down-after-milliseconds mymaster 1000"
    echo "sentinel failover-timeout mymaster 3000"
    echo "sentinel parallel-syncs mymaster 1"
  } >"$conf"
  if [ "${SENTINEL_CMD[0]}" = redis-sentinel ]; then
    redis-sentinel "$conf" >"$WORK/$name.log" 2>&1 &
  else
    redis-server "$conf" --sentinel >"$WORK/$name.log" 2>&1 &
  fi
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  for _ in $(seq 1 50); do
    [ "$(rcli "$port" ping)" = PONG ] && return 0
    sleep 0.1
  done
  fail "sentinel $name did not answer on $port within 5s"
}

# sentinel_primary_port SENTINEL_PORT : the primary's port as that sentinel says.
sentinel_primary_port() {
  rcli "$1" sentinel get-master-addr-by-name mymaster | sed -n 2p
}

# start_topology TAG : primary + replica + 3 sentinels, all agreeing.
# Sets PRIMARY_PORT PRIMARY_PID REPLICA_PORT TOPO_PIDS SENTINELS (csv) S1_PORT.
start_topology() {
  local tag=$1 ports=() i ok
  PRIMARY_PORT=$(free_port)
  start_redis "$tag-primary" "$PRIMARY_PORT"
  PRIMARY_PID=$LAST_PID
  TOPO_PIDS=("$LAST_PID")
  REPLICA_PORT=$(free_port)
  start_redis "$tag-replica" "$REPLICA_PORT" --replicaof 127.0.0.1 "$PRIMARY_PORT"
  TOPO_PIDS+=("$LAST_PID")
  # The replica must be in sync before the sentinels look (they read INFO
  # from the primary at start, then only every 10s).
  for _ in $(seq 1 100); do
    rcli "$REPLICA_PORT" info replication | grep -q 'master_link_status:up' && break
    sleep 0.1
  done
  rcli "$REPLICA_PORT" info replication | grep -q 'master_link_status:up' ||
    fail "$tag: replica $REPLICA_PORT not in sync with $PRIMARY_PORT within 10s"
  SENTINELS=""
  for i in 1 2 3; do
    ports[i]=$(free_port)
    start_sentinel "$tag-sentinel$i" "${ports[i]}" "$PRIMARY_PORT"
    TOPO_PIDS+=("$LAST_PID")
    SENTINELS+="${SENTINELS:+,}127.0.0.1:${ports[i]}"
  done
  S1_PORT=${ports[1]}
  # Ready = every sentinel sees the others (quorum reachable) and the replica.
  for _ in $(seq 1 200); do
    ok=1
    for i in 1 2 3; do
      rcli "${ports[i]}" sentinel ckquorum mymaster | grep -q '^OK 3 usable' || ok=0
      rcli "${ports[i]}" sentinel replicas mymaster | grep -qx "$REPLICA_PORT" || ok=0
    done
    [ "$ok" = 1 ] && break
    sleep 0.1
  done
  [ "$ok" = 1 ] || fail "$tag: sentinels did not agree on quorum and replica within 20s"
  echo "   $tag: primary :$PRIMARY_PORT, replica :$REPLICA_PORT, sentinels $SENTINELS"
}

stop_topology() {
  for pid in "${TOPO_PIDS[@]}"; do stop_pid "$pid" KILL; done
}

# wait_promotion SECONDS : until the sentinels name the replica as primary.
wait_promotion() {
  local t0=$SECONDS
  while [ $((SECONDS - t0)) -lt "$1" ]; do
    [ "$(sentinel_primary_port "$S1_PORT")" = "$REPLICA_PORT" ] &&
      [ "$(rcli "$REPLICA_PORT" role | head -1)" = master ] && return 0
    sleep 0.2
  done
  fail "sentinels did not promote the replica :$REPLICA_PORT within ${1}s"
}

# ---- jobsvc -------------------------------------------------------------------

# start_replica NAME ARGS... : starts jobsvc, waits for /healthz; LAST_PID, LAST_PORT.
start_replica() {
  local name=$1
  shift
  LAST_PORT=$(free_port)
  "$JOBSVC" --port "$LAST_PORT" --name "$name" --cache-dir "$WORK/cache-$name" "$@" \
    2>"$WORK/$name.log" &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  for _ in $(seq 1 50); do
    if [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LAST_PORT/healthz" || true)" = 200 ]; then
      return 0
    fi
    kill -0 "$LAST_PID" 2>/dev/null || fail "replica $name exited at start"
    sleep 0.1
  done
  fail "replica $name not healthy on port $LAST_PORT within 5s"
}

# try_submit PORT : prints the job id when the answer is 202, "" otherwise.
try_submit() {
  curl -s -m 5 -X POST -d '{"range":"7d"}' -w '\n%{http_code}' \
    "http://127.0.0.1:$1/api/overview" 2>/dev/null |
    python3 -c 'import json, sys
lines = sys.stdin.read().rsplit("\n", 1)
print(json.loads(lines[0])["job_id"] if len(lines) == 2 and lines[1] == "202" else "")' || true
}

submit() {
  local id
  id=$(try_submit "$1")
  [ -n "$id" ] || fail "POST to port $1 was not answered 202"
  echo "$id"
}

# poll PORT ID : "<code> <status>" ("404 -" when absent).
poll() {
  local body code
  body=$(curl -s -m 5 -w '\n%{http_code}' "http://127.0.0.1:$1/api/jobs/$2") || { echo "000 -"; return 0; }
  code=${body##*$'\n'}
  if [ "$code" != 200 ]; then
    echo "$code -"
    return 0
  fi
  printf '%s' "${body%$'\n'*}" | python3 -c 'import json, sys; print(200, json.load(sys.stdin)["status"])'
}

# wait_status PORT ID STATUS SECONDS
wait_status() {
  local got=""
  for _ in $(seq 1 $(($4 * 10))); do
    got=$(poll "$1" "$2")
    [ "$got" = "200 $3" ] && return 0
    sleep 0.1
  done
  fail "job $2 on port $1: last answer '$got', want status $3 within ${4}s"
}

# store_of PORT : "<store> <primary>" from /api/store.
store_of() {
  curl -s -m 2 "http://127.0.0.1:$1/api/store" 2>/dev/null |
    python3 -c 'import json, sys; j = json.load(sys.stdin); print(j["store"], j["primary"])' ||
    echo "? ?"
}

# health_of PORT : "<code> <status> <store>" from /healthz.
health_of() {
  local body code
  body=$(curl -s -m 2 -w '\n%{http_code}' "http://127.0.0.1:$1/healthz" 2>/dev/null) || { echo "000 - -"; return 0; }
  code=${body##*$'\n'}
  printf '%s' "${body%$'\n'*}" |
    python3 -c "import json, sys; j = json.load(sys.stdin); print($code, j['status'], j['store'])" ||
    echo "$code - -"
}

# outage PORT_A PORT_B : kills the primary, then posts to both replicas until
# the sentinels promote the replica (bounded). Sets OUT_A / OUT_B (ids
# accepted), FILE_A / FILE_B (1 when that replica reported store=file).
outage() {
  local pa=$1 pb=$2 id t0
  OUT_A=() OUT_B=() FILE_A=0 FILE_B=0
  stop_pid "$PRIMARY_PID" KILL
  echo "   SIGKILLed primary :$PRIMARY_PORT; posting to both replicas until promotion"
  t0=$SECONDS
  while [ $((SECONDS - t0)) -lt 20 ]; do
    id=$(try_submit "$pa")
    [ -n "$id" ] && OUT_A+=("$id")
    id=$(try_submit "$pb")
    [ -n "$id" ] && OUT_B+=("$id")
    [ "$(store_of "$pa" | cut -d' ' -f1)" = file ] && FILE_A=1
    [ "$(store_of "$pb" | cut -d' ' -f1)" = file ] && FILE_B=1
    if [ "$(sentinel_primary_port "$S1_PORT")" = "$REPLICA_PORT" ]; then
      break
    fi
    sleep 0.3
  done
  wait_promotion 5
  echo "   promoted :$REPLICA_PORT after $((SECONDS - t0))s; accepted during the outage:" \
    "${#OUT_A[@]} on A, ${#OUT_B[@]} on B; store=file seen: A=$FILE_A B=$FILE_B"
}

COMMON=(--workers 2 --job-ms 300 --lease-ms 1000)

# ---- 1. recover ---------------------------------------------------------------

echo "== 1. --redis-fallback recover: back on Redis after the failover, no job lost"
start_topology rec
start_replica recA --profile fixed --sentinels "$SENTINELS" "${COMMON[@]}"
A_PID=$LAST_PID A_PORT=$LAST_PORT
start_replica recB --profile fixed --sentinels "$SENTINELS" "${COMMON[@]}"
B_PID=$LAST_PID B_PORT=$LAST_PORT
for port in "$A_PORT" "$B_PORT"; do
  got=$(store_of "$port")
  [ "$got" = "redis 127.0.0.1:$PRIMARY_PORT" ] || fail "replica :$port reports '$got' before the outage"
done
id=$(submit "$A_PORT")
wait_status "$B_PORT" "$id" complete 10
pass "before the outage both use redis at :$PRIMARY_PORT; $id from A completes on B"

outage "$A_PORT" "$B_PORT"
[ "${#OUT_A[@]}" -ge 1 ] && [ "${#OUT_B[@]}" -ge 1 ] ||
  fail "both replicas must accept jobs during the outage (A ${#OUT_A[@]}, B ${#OUT_B[@]})"
[ "$FILE_A" = 1 ] && [ "$FILE_B" = 1 ] || fail "both replicas must fall back to file (A=$FILE_A B=$FILE_B)"
pass "during the outage both replicas accepted jobs on store=file"

t0=$SECONDS back=0
while [ $((SECONDS - t0)) -lt 8 ]; do
  if [ "$(store_of "$A_PORT")" = "redis 127.0.0.1:$REPLICA_PORT" ] &&
    [ "$(store_of "$B_PORT")" = "redis 127.0.0.1:$REPLICA_PORT" ]; then
    back=1
    break
  fi
  sleep 0.2
done
[ "$back" = 1 ] || fail "after promotion: A '$(store_of "$A_PORT")', B '$(store_of "$B_PORT")', want redis 127.0.0.1:$REPLICA_PORT within 8s"
pass "both report store=redis at the promoted primary :$REPLICA_PORT within $((SECONDS - t0))s"
for port in "$A_PORT" "$B_PORT"; do
  got=$(health_of "$port")
  [ "$got" = "200 ok redis" ] || fail "/healthz of :$port is '$got', want '200 ok redis'"
done

for id in "${OUT_A[@]}"; do wait_status "$B_PORT" "$id" complete 15; done
for id in "${OUT_B[@]}"; do wait_status "$A_PORT" "$id" complete 15; done
pass "all $((${#OUT_A[@]} + ${#OUT_B[@]})) jobs accepted on file complete when polled on the other replica"
id=$(submit "$A_PORT")
got=$(poll "$B_PORT" "$id")
[ "${got%% *}" = 200 ] || fail "B does not see A's new job $id: '$got'"
wait_status "$B_PORT" "$id" complete 10
[ ! -e "$WORK/cache-recA/jobs.log" ] && [ ! -e "$WORK/cache-recB/jobs.log" ] ||
  fail "a file cache still exists after the migration"
pass "a new job on A is visible on B and completes; the file caches are gone"
stop_pid "$A_PID" TERM
stop_pid "$B_PID" TERM
stop_topology

# ---- 2. sticky ----------------------------------------------------------------

echo "== 2. --redis-fallback sticky: stays on file after the failover, split in half"
start_topology sticky
# --profile buggy with the other bugs pinned fixed: only the fallback is buggy.
start_replica stC --profile buggy --state redis --shutdown drain --sentinels "$SENTINELS" "${COMMON[@]}"
C_PID=$LAST_PID C_PORT=$LAST_PORT
grep -q 'redis-fallback=sticky(buggy)' "$WORK/stC.log" || fail "--profile buggy did not select sticky"
# An override before --profile fixed must win.
start_replica stD --redis-fallback sticky --profile fixed --sentinels "$SENTINELS" "${COMMON[@]}"
D_PID=$LAST_PID D_PORT=$LAST_PORT
grep -q 'redis-fallback=sticky(buggy)' "$WORK/stD.log" || fail "--redis-fallback sticky did not win"
for port in "$C_PORT" "$D_PORT"; do
  got=$(store_of "$port")
  [ "$got" = "redis 127.0.0.1:$PRIMARY_PORT" ] || fail "replica :$port reports '$got' before the outage"
done
pass "before the outage both use redis at :$PRIMARY_PORT"

outage "$C_PORT" "$D_PORT"
[ "${#OUT_A[@]}" -ge 1 ] || fail "C accepted nothing during the outage"
[ "$FILE_A" = 1 ] || [ "$FILE_B" = 1 ] || fail "no replica fell back to file during the outage"

# Watch for 3s (6 periods of the recover probe): a replica that went to file stays.
stuck=0
for _ in $(seq 1 15); do
  stuck=0
  if [ "$FILE_A" = 1 ]; then
    [ "$(store_of "$C_PORT" | cut -d' ' -f1)" = file ] || fail "C left the file cache (sticky must not)"
    stuck=$((stuck + 1))
  fi
  if [ "$FILE_B" = 1 ]; then
    [ "$(store_of "$D_PORT" | cut -d' ' -f1)" = file ] || fail "D left the file cache (sticky must not)"
    stuck=$((stuck + 1))
  fi
  sleep 0.2
done
[ "$stuck" -ge 1 ] || fail "no replica stayed on file"
pass "$stuck replica(s) still on store=file 3s after the promotion"
for port in "$C_PORT" "$D_PORT"; do
  got=$(health_of "$port")
  case "$got" in
    "200 ok file" | "200 ok redis") ;;
    *) fail "/healthz of :$port is '$got', want 200 ok" ;;
  esac
  echo "   /healthz :$port -> $got"
done
pass "/healthz stays 200 ok while split"

# The split: C's jobs live in C's file only.
[ "$FILE_A" = 1 ] || fail "C never reported store=file"
id=$(submit "$C_PORT")
got=$(poll "$D_PORT" "$id")
[ "${got%% *}" = 404 ] || fail "D answered '$got' for C's job $id, want 404 (split)"
for jid in "$id" "${OUT_A[@]}"; do
  [ "$(rcli "$REPLICA_PORT" exists "jobsvc:job:$jid")" = 0 ] ||
    fail "job $jid of the sticky replica C reached Redis"
done
wait_status "$C_PORT" "$id" complete 10
pass "job $id: complete on C, 404 on D, absent from Redis with C's outage jobs (split)"
stop_pid "$C_PID" TERM
stop_pid "$D_PID" TERM
stop_topology

echo "PASS: jobsvc failover smoke (recover back on Redis with no job lost; sticky caught)"
