#!/usr/bin/env bash
# The teardown watchdog fires while an injection is still pending: a
# redis.failover in kill mode whose sentinels can never elect (there is no
# replica) waits up to 50s; Ctrl-C asks for a heal that cannot come until
# then, and --teardown-timeout 3s gives up on it. The pending injection is
# cancelled, every process is killed, the reports are complete and the
# run ends long before the injection's own timeout. (The old runner
# destroyed the target under the injector here: exit 139, no JUnit.)
source "$(dirname "$0")/lib.sh"
cd "$SRC"

ev="$TMP/out/failover-stuck/events.jsonl"
start=$(date +%s)
set +e
"$FL" run tests/data/cli/failover-stuck.yaml --out "$TMP/out" --junit "$TMP/junit.xml" \
  --teardown-timeout 3s >"$TMP/stdout" 2>"$TMP/stderr" &
flpid=$!
set -e
for _ in $(seq 1 100); do
  grep -q '"value":"killed by SIGKILL"' "$ev" 2>/dev/null && break
  sleep 0.1
done
grep -q '"value":"killed by SIGKILL"' "$ev" || { kill -9 $flpid; show_output; fail "the primary was never killed"; }
grep -q '"type":"ok","source":"redis.failover","f":"fault"' "$ev" && fail "the failover was not pending"
kill -INT $flpid
set +e
wait $flpid
RC=$?
set -e
took=$(( $(date +%s) - start ))
[ $RC -eq 2 ] || { show_output; fail "exit $RC, expected 2"; }
[ $took -lt 30 ] || { show_output; fail "the run took ${took}s: the cancelled injection kept the loop alive"; }
grep -q 'teardown is taking too long' "$TMP/stderr" || { show_output; fail "the watchdog did not say why it fired"; }
grep -q '"type":"info","source":"redis.failover","f":"fault".*"error":"teardown is taking too long"' "$ev" \
  || { show_output; fail "the cancelled injection is not in the history as info"; }
tail -n 1 "$ev" | grep -q '"f":"phase".*"value":"done"' || fail "the events file does not end with the done phase"
assert_junit_valid "$TMP/junit.xml"
grep -q 'interrupted by SIGINT' "$TMP/junit.xml" || fail "the JUnit does not say the run was interrupted"
assert_no_leftovers "$ev"
! ls "$FAULTLINE_STATE_DIR"/*.journal >/dev/null 2>&1 || fail "a journal was left behind"
pass "watchdog during a pending injection: cancelled, killed, complete reports in ${took}s, nothing left"
