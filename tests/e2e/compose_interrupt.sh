#!/usr/bin/env bash
# Whatever a run changes in Docker, it restores. First a network partition
# that heals on schedule (tests/data/compose/partition.yaml): the cut-off
# replica's probes fail, and it answers again on its new port. Then runs
# cut short mid-fault: an api container is paused, another one is
# disconnected from its network, and redis is killed with its restart
# policy set to "no" (tests/data/compose/interrupt.yaml); then
#   1. Ctrl-C: the run heals on its way out (exit 2, interrupted);
#   2. SIGKILL of faultline: its guardian process undoes the journal;
#   3. SIGKILL of faultline without the guardian (FAULTLINE_GUARD=0): the
#      changes stay, and `faultline recover` undoes them from the journal
#      (docker.unpause, docker.policy, docker.start).
# Afterwards no container is paused, stopped or left with another restart
# policy.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_compose.sh"
cd "$SRC"
compose_setup
compose_up fixed

redis_id=$(compose ps -q redis)

# ---- 0. a partition that heals -------------------------------------------------
run_fl run tests/data/compose/partition.yaml --target compose --compose-project "$PROJECT" \
  --out "$TMP/part" --junit "$TMP/part.xml"
[ $RC -eq 0 ] || { show_output; fail "partition: exit $RC, expected 0"; }
ev="$TMP/part/compose-partition/events.jsonl"
grep -q 'partitioned: container .* disconnected from '"$PROJECT"'_default' "$ev" || fail "no partition in the history"
grep -q 'reconnected: container .* to '"$PROJECT"'_default (aliases .*api' "$ev" || fail "no reconnect with aliases"
python3 - "$ev" <<'PY' || fail "the cut-off replica's probes did not fail during the partition"
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
cut = [o for o in ops if o['f'] == 'fault' and o['type'] == 'ok' and o['source'] == 'network.partition']
assert cut, 'no network.partition fault'
key = cut[0]['key']
t0 = cut[0]['time_us']
heal = [o for o in ops if o['f'] == 'heal' and o['type'] == 'ok' and o['source'] == 'network.partition'][0]['time_us']
fails = [o for o in ops if o['f'] == 'probe' and o.get('key') == key and o['type'] == 'fail' and t0 < o['time_us'] < heal]
oks_after = [o for o in ops if o['f'] == 'probe' and o.get('key') == key and o['type'] == 'ok' and o['time_us'] > heal]
assert fails, 'no failed probe of %s while it was cut off' % key
assert oks_after, 'no answer from %s after the heal' % key
print('%s: %d probes failed while cut off, %d answered after the heal' % (key, len(fails), len(oks_after)))
PY
assert_project_restored
pass "a partition cuts a replica off and heals with its aliases"

# mid_fault: wait until one api container is paused, one is on no network,
# and redis is down with restart policy "no".
mid_fault() {
  local paused state cut stopped id
  for _ in $(seq 1 200); do
    paused=$(docker ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter status=paused | wc -l)
    state=$(docker inspect -f '{{.State.Status}} {{.HostConfig.RestartPolicy.Name}}' "$redis_id")
    cut=0
    stopped=0
    for id in $(compose ps -q api); do
      [ -z "$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' "$id")" ] && cut=$((cut + 1))
      ps -o stat= -p "$(docker inspect -f '{{.State.Pid}}' "$id")" | grep -q '^T' && stopped=$((stopped + 1))
    done
    [ "$paused" -ge 1 ] && [ "$cut" -ge 1 ] && [ "$stopped" -ge 1 ] && [ "$state" = "exited no" ] && return 0
    sleep 0.1
  done
  echo "paused: $paused, cut off: $cut, SIGSTOPped: $stopped, redis: $state" >&2
  return 1
}

start_run() {
  set +e
  env FAULTLINE_GUARD=${GUARD:-1} "$FL" run tests/data/compose/interrupt.yaml --target compose --compose-project "$PROJECT" \
    --out "$TMP/$1" --junit "$TMP/$1.xml" >"$TMP/stdout" 2>"$TMP/stderr" &
  flpid=$!
  set -e
}

# ---- 1. Ctrl-C ---------------------------------------------------------------
start_run int
mid_fault || { kill -9 $flpid; show_output; fail "the faults never took effect"; }
pass "mid-fault: an api container paused, one SIGSTOPped, one cut off its network, redis down with restart policy no"
kill -INT $flpid
set +e
wait $flpid
RC=$?
set -e
[ $RC -eq 2 ] || { show_output; fail "interrupted run: exit $RC, expected 2"; }
grep -q 'interrupted by SIGINT' "$TMP/int.xml" || fail "the JUnit does not say the run was interrupted"
assert_project_restored
! ls "$FAULTLINE_STATE_DIR"/*.journal >/dev/null 2>&1 || fail "a journal was left behind"
pass "Ctrl-C mid-fault left nothing changed"

# ---- 2. faultline killed: its guardian heals ----------------------------------
compose_up fixed
start_run guarded
mid_fault || { kill -9 $flpid; show_output; fail "the faults never took effect (guarded run)"; }
kill -KILL $flpid
wait $flpid 2>/dev/null || true
for _ in $(seq 1 200); do
  ls "$FAULTLINE_STATE_DIR"/*.journal >/dev/null 2>&1 || break
  sleep 0.1
done
! ls "$FAULTLINE_STATE_DIR"/*.journal >/dev/null 2>&1 || { show_output; fail "the guardian did not heal"; }
grep -q 'guard: .*ended without healing' "$TMP/stderr" || { show_output; fail "the guardian said nothing"; }
assert_project_restored
pass "a killed run is healed by its guardian"

# ---- 3. faultline and its guardian gone: faultline recover -------------------
compose_up fixed
GUARD=0 start_run crash
mid_fault || { kill -9 $flpid; show_output; fail "the faults never took effect (second run)"; }
kill -KILL $flpid
wait $flpid 2>/dev/null || true
ls "$FAULTLINE_STATE_DIR"/*.journal >/dev/null 2>&1 || fail "the killed run left no journal"
# Still broken: nothing healed it yet.
[ "$(docker inspect -f '{{.State.Status}} {{.HostConfig.RestartPolicy.Name}}' "$redis_id")" = "exited no" ] \
  || fail "redis came back before recover"
run_fl recover
[ $RC -eq 0 ] || { show_output; fail "recover: exit $RC"; }
grep -q 'unpaused the container of api' "$TMP/stdout" "$TMP/stderr" || { show_output; fail "recover did not unpause"; }
grep -q 'restored the restart policy of redis.0' "$TMP/stdout" "$TMP/stderr" || { show_output; fail "recover did not restore the policy"; }
grep -q 'started the container of redis.0' "$TMP/stdout" "$TMP/stderr" || { show_output; fail "recover did not start redis"; }
grep -q 'reconnected to its network the container of api' "$TMP/stdout" "$TMP/stderr" || { show_output; fail "recover did not reconnect"; }
grep -q 'sent SIGCONT to the container of api' "$TMP/stdout" "$TMP/stderr" || { show_output; fail "recover did not continue the stopped processes"; }
assert_project_restored
! ls "$FAULTLINE_STATE_DIR"/*.journal >/dev/null 2>&1 || fail "recover left a journal behind"
pass "a killed run is healed by faultline recover"
