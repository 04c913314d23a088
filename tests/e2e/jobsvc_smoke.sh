#!/usr/bin/env bash
# End-to-end smoke test of the demo SUT (examples/jobsvc) against a real
# redis-server and real replicas over loopback, driven with curl:
#   1. fixed profile: a job posted to replica A completes when polled on B
#   2. --state memory: the job exists on A, B answers 404
#   3. --shutdown abandon: jobs of a SIGKILLed replica stay non-terminal
#   4. --shutdown drain: jobs of a SIGKILLed replica are finished by B
#      (the one A was running goes through lease expiry + reaper)
#   5. drain on SIGTERM: POST -> 503, the in-flight job completes, exit 0
# Usage: FL_BUILD_DIR=<build dir with jobsvc> bash tests/e2e/jobsvc_smoke.sh
WORK_PREFIX=jobsvc_smoke
source "$(dirname "$0")/lib_jobsvc.sh"

# ---- redis ----------------------------------------------------------------

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
for _ in $(seq 1 50); do
  [ "$(rcli ping 2>/dev/null || true)" = "PONG" ] && break
  sleep 0.1
done
[ "$(rcli ping 2>/dev/null || true)" = "PONG" ] || fail "redis-server did not start on $REDIS_PORT"
echo "redis-server on 127.0.0.1:$REDIS_PORT"

# ---- replicas -------------------------------------------------------------

# start_replica NAME ARGS... : starts jobsvc, waits for /healthz, sets
# LAST_PID and LAST_PORT.
start_replica() {
  local name=$1
  shift
  LAST_PORT=$(free_port)
  "$JOBSVC" --port "$LAST_PORT" --name "$name" "$@" 2>"$WORK/$name.log" &
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

# wait_exit PID : waits (bounded, 10s) for a process we started to exit and
# sets LAST_RC to its exit status.
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
  LAST_RC=0
  { wait "$pid"; } 2>/dev/null || LAST_RC=$?
}

# stop_pid PID SIGNAL : signals a process we started, then wait_exit.
stop_pid() {
  kill "-$2" "$1" 2>/dev/null || true
  wait_exit "$1"
}

# submit PORT : prints the job id, fails unless the answer is 202.
submit() {
  local body code
  body=$(curl -s -m 5 -X POST -H 'Content-Type: application/json' -d '{"range":"7d"}' \
    -w '\n%{http_code}' "http://127.0.0.1:$1/api/overview") || fail "POST to port $1 failed"
  code=${body##*$'\n'}
  [ "$code" = 202 ] || fail "POST to port $1 answered $code, want 202"
  printf '%s' "${body%$'\n'*}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["job_id"])'
}

# poll PORT ID : prints "<http code> <status> <attempts> <replica>" ("404 - - -" when absent).
poll() {
  local body code
  body=$(curl -s -m 5 -w '\n%{http_code}' "http://127.0.0.1:$1/api/jobs/$2") || { echo "000 - - -"; return 0; }
  code=${body##*$'\n'}
  if [ "$code" != 200 ]; then
    echo "$code - - -"
    return 0
  fi
  printf '%s' "${body%$'\n'*}" |
    python3 -c 'import json, sys; j = json.load(sys.stdin); print(200, j["status"], j["attempts"], j["replica"])'
}

# wait_status PORT ID STATUS SECONDS : polls until the job has STATUS.
wait_status() {
  local port=$1 id=$2 want=$3 secs=$4 got=""
  for _ in $(seq 1 $((secs * 10))); do
    got=$(poll "$port" "$id")
    [ "$(echo "$got" | cut -d' ' -f2)" = "$want" ] && return 0
    sleep 0.1
  done
  fail "job $id on port $port: last answer '$got', want status $want within ${secs}s"
}

COMMON=(--redis "127.0.0.1:$REDIS_PORT")

# ---- 1. fixed profile: any replica answers --------------------------------

echo "== 1. fixed profile: job posted to A is visible and completes on B"
rcli flushall >/dev/null
start_replica fixA --profile fixed "${COMMON[@]}"
A_PID=$LAST_PID A_PORT=$LAST_PORT
start_replica fixB --profile fixed "${COMMON[@]}"
B_PID=$LAST_PID B_PORT=$LAST_PORT
id=$(submit "$A_PORT")
first=$(poll "$B_PORT" "$id")
[ "${first%% *}" = 200 ] || fail "B does not know job $id right after submit: $first"
pass "B sees $id right away ($first)"
wait_status "$B_PORT" "$id" complete 10
pass "job $id complete when polled on B: $(poll "$B_PORT" "$id")"
stop_pid "$A_PID" TERM
[ "$LAST_RC" = 0 ] || fail "fixA exited $LAST_RC on SIGTERM, want 0"
stop_pid "$B_PID" TERM

# ---- 2. state=memory: the other replica answers 404 -----------------------

echo "== 2. --state memory: polling B gives 404"
# Overrides come before --profile on purpose: they must win in any order.
start_replica memA --state memory --shutdown abandon --profile fixed
A_PID=$LAST_PID A_PORT=$LAST_PORT
start_replica memB --state memory --shutdown abandon --profile fixed
B_PID=$LAST_PID B_PORT=$LAST_PORT
id=$(submit "$A_PORT")
for _ in 1 2 3 4 5; do
  got=$(poll "$B_PORT" "$id")
  [ "${got%% *}" = 404 ] || fail "B answered '$got' for A's job $id, want 404"
  sleep 0.1
done
pass "B answers 404 for $id"
wait_status "$A_PORT" "$id" complete 10
pass "A alone knows it: $(poll "$A_PORT" "$id")"
stop_pid "$A_PID" TERM
stop_pid "$B_PID" TERM

# ---- 3. shutdown=abandon: zombies after SIGKILL ---------------------------

echo "== 3. --shutdown abandon: jobs of a SIGKILLed replica stay non-terminal"
rcli flushall >/dev/null
start_replica abA --profile buggy --state redis --workers 1 --job-ms 2000 "${COMMON[@]}"
A_PID=$LAST_PID A_PORT=$LAST_PORT
start_replica abB --profile buggy --state redis "${COMMON[@]}"
B_PID=$LAST_PID B_PORT=$LAST_PORT
ids=()
for _ in 1 2 3 4; do ids+=("$(submit "$A_PORT")"); done
stop_pid "$A_PID" KILL
echo "   killed A with 4 accepted jobs; waiting 3s"
sleep 3
for id in "${ids[@]}"; do
  st=$(rcli hget "jobsvc:job:$id" status)
  case "$st" in
    pending | running) ;;
    *) fail "abandoned job $id has status '$st' in Redis, want pending|running" ;;
  esac
  got=$(poll "$B_PORT" "$id")
  [ "$(echo "$got" | cut -d' ' -f1-2)" = "200 $st" ] || fail "B answered '$got' for $id, Redis says $st"
done
pass "all 4 jobs still pending/running after 3s (zombies), B agrees"
stop_pid "$B_PID" TERM

# ---- 4. shutdown=drain: leases + reaper finish a killed replica's jobs ----

echo "== 4. --shutdown drain: jobs of a SIGKILLed replica complete via B"
rcli flushall >/dev/null
start_replica drA --profile fixed --workers 1 --job-ms 3000 --lease-ms 1000 "${COMMON[@]}"
A_PID=$LAST_PID A_PORT=$LAST_PORT
start_replica drB --profile fixed --lease-ms 1000 "${COMMON[@]}"
B_PID=$LAST_PID B_PORT=$LAST_PORT
ids=()
for _ in 1 2 3 4; do ids+=("$(submit "$A_PORT")"); done
# Kill A while it runs one of them, so that job needs lease expiry + reaper.
victim=""
for _ in $(seq 1 30); do
  for id in "${ids[@]}"; do
    if [ "$(rcli hget "jobsvc:job:$id" replica)" = drA ] &&
      [ "$(rcli hget "jobsvc:job:$id" status)" = running ]; then
      victim=$id
    fi
  done
  [ -n "$victim" ] && break
  sleep 0.1
done
[ -n "$victim" ] || fail "A never started any of the jobs"
stop_pid "$A_PID" KILL
echo "   killed A while it ran $victim"
for id in "${ids[@]}"; do wait_status "$B_PORT" "$id" complete 10; done
got=$(poll "$B_PORT" "$victim")
attempts=$(echo "$got" | cut -d' ' -f3)
[ "$attempts" -ge 2 ] || fail "job $victim completed with attempts=$attempts, want >= 2 (rerun)"
grep -q "requeued" "$WORK/drB.log" || fail "B's log shows no reaper requeue"
pass "all 4 jobs complete via B; $victim was requeued and rerun ($got)"
stop_pid "$B_PID" TERM

# ---- 5. shutdown=drain on SIGTERM -----------------------------------------

echo "== 5. --shutdown drain on SIGTERM: 503 for new jobs, in-flight job completes, exit 0"
rcli flushall >/dev/null
start_replica sigA --profile fixed --workers 1 --job-ms 1500 "${COMMON[@]}"
A_PID=$LAST_PID A_PORT=$LAST_PORT
id=$(submit "$A_PORT")
for _ in $(seq 1 30); do
  [ "$(rcli hget "jobsvc:job:$id" status)" = running ] && break
  sleep 0.1
done
[ "$(rcli hget "jobsvc:job:$id" status)" = running ] || fail "job $id never started"
kill -TERM "$A_PID"
sleep 0.2
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST -d '{}' "http://127.0.0.1:$A_PORT/api/overview" || true)
[ "$code" = 503 ] || fail "POST while draining answered $code, want 503"
wait_exit "$A_PID"
[ "$LAST_RC" = 0 ] || fail "draining replica exited $LAST_RC, want 0"
st=$(rcli hget "jobsvc:job:$id" status)
[ "$st" = complete ] || fail "in-flight job $id is '$st' after drain, want complete"
pass "POST got 503 while draining, $id completed, exit 0"

echo "PASS: jobsvc smoke (5 checks)"
