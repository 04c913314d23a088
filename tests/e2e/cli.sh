#!/usr/bin/env bash
# The command line: usage, exit codes, every scenario error with
# file:line:col, a service that never becomes ready, Ctrl-C. No process
# started by a run may remain in any of these outcomes.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

run_fl --version
[ $RC -eq 0 ] && grep -q '^faultline [0-9]' "$TMP/stdout" || fail "--version"
run_fl --help
[ $RC -eq 0 ] && grep -q 'Exit codes' "$TMP/stdout" || fail "--help"
run_fl run --help
[ $RC -eq 0 ] && grep -q -- '--junit FILE' "$TMP/stdout" || fail "run --help"
run_fl frobnicate
[ $RC -eq 64 ] || fail "unknown command: exit $RC, expected 64"
run_fl run
[ $RC -eq 64 ] || fail "run without scenario: exit $RC, expected 64"
run_fl run scenarios --seed abc
[ $RC -eq 64 ] || fail "bad --seed: exit $RC, expected 64"
run_fl run scenarios --var novalue
[ $RC -eq 64 ] || fail "bad --var: exit $RC, expected 64"
pass "usage errors exit 64"

run_fl validate scenarios
[ $RC -eq 0 ] || { show_output; fail "shipped scenarios do not validate"; }
run_fl list scenarios
[ $RC -eq 0 ] && grep -q killed-pod-mid-job "$TMP/stdout" && grep -q replica-state-split "$TMP/stdout" \
  || { show_output; fail "list"; }
run_fl validate scenarios/killed-pod-mid-job.yaml --var nosuchvar=1
[ $RC -eq 65 ] || fail "undeclared --var: exit $RC, expected 65"
pass "validate and list"

# Every error of a broken file, each with file:line:col.
f=tests/data/cli/broken.yaml
run_fl validate $f
[ $RC -eq 65 ] || { show_output; fail "broken scenario: exit $RC, expected 65"; }
grep -q "^$f:1[23]:[0-9]*: error: .*" "$TMP/stderr" || { show_output; fail "no YAML syntax error at line 12"; }
sed '$d' $f > "$TMP/broken2.yaml"        # the same file without the syntax error
run_fl validate "$TMP/broken2.yaml"
[ $RC -eq 65 ] || fail "broken2: exit $RC"
grep -q "broken2.yaml:2:11: error: .*duration" "$TMP/stderr" || { show_output; fail "bad duration not at 2:11"; }
grep -q "broken2.yaml:6:5: error: .*replics" "$TMP/stderr" || { show_output; fail "unknown key not at 6:5"; }
grep -q "broken2.yaml:9:5: error: .*process.explode" "$TMP/stderr" || { show_output; fail "unknown injector not at 9:5"; }
grep -q "broken2.yaml:11:[0-9]*: error: .*nothing" "$TMP/stderr" || { show_output; fail "unknown probe not reported"; }
run_fl run "$TMP/broken2.yaml" --out "$TMP/out-broken" --junit "$TMP/broken.xml"
[ $RC -eq 65 ] || fail "run of a broken scenario: exit $RC, expected 65"
assert_junit_valid "$TMP/broken.xml"
# Both files in one call: every error of each is named.
run_fl validate $f "$TMP/broken2.yaml"
[ $RC -eq 65 ] && [ "$(grep -c ': error: ' "$TMP/stderr")" -ge 5 ] || { show_output; fail "validate of two files"; }
pass "invalid scenarios exit 65 with file:line:col for every error"

# A service that never becomes ready: exit 2, the error names it, nothing left.
run_fl run tests/data/cli/never-ready.yaml --out "$TMP/nr" --junit "$TMP/nr.xml"
[ $RC -eq 2 ] || { show_output; fail "never-ready: exit $RC, expected 2"; }
grep -q 'stuck' "$TMP/nr.xml" || fail "the JUnit error does not name the service"
grep -q '<error' "$TMP/nr.xml" || fail "no <error> in the JUnit"
assert_junit_valid "$TMP/nr.xml"
assert_no_leftovers "$TMP/nr/never-ready/events.jsonl"
pass "never ready: exit 2, nothing left"

# Ctrl-C during a run with a paused replica: heal, stop, exit 2, nothing left.
set +e
"$FL" run tests/data/cli/long-run.yaml --out "$TMP/lr" --junit "$TMP/lr.xml" >"$TMP/stdout" 2>"$TMP/stderr" &
flpid=$!
set -e
for _ in $(seq 1 150); do
  grep -q '"f":"fault".*"type":"ok"\|"type":"ok".*"f":"fault"' "$TMP/lr/long-run/events.jsonl" 2>/dev/null && break
  sleep 0.1
done
grep -q '"process.pause"' "$TMP/lr/long-run/events.jsonl" || { kill -9 $flpid; show_output; fail "the pause never happened"; }
kill -INT $flpid
set +e
wait $flpid
RC=$?
set -e
[ $RC -eq 2 ] || { show_output; fail "Ctrl-C: exit $RC, expected 2"; }
grep -q '"f":"heal"' "$TMP/lr/long-run/events.jsonl" || fail "Ctrl-C did not heal the pause"
assert_no_leftovers "$TMP/lr/long-run/events.jsonl"
assert_junit_valid "$TMP/lr.xml"
pass "Ctrl-C heals, stops everything, exits 2"

# Exit codes: a violation wins over an output that cannot be written; an
# output folder that cannot be created is the harness's problem (2), never
# an invalid scenario (65).
run_fl run tests/data/cli/violated-fast.yaml --out "$TMP/vf" --junit /proc/no-such-dir/junit.xml
[ $RC -eq 1 ] || { show_output; fail "violation + unwritable JUnit: exit $RC, expected 1"; }
grep -q 'junit.xml' "$TMP/stderr" || { show_output; fail "the unwritable JUnit path is not reported"; }
run_fl run tests/data/cli/violated-fast.yaml --out "$TMP/vf2" --events /proc/no-such-dir/e.jsonl
[ $RC -eq 2 ] || { show_output; fail "unwritable --events: exit $RC, expected 2"; }
run_fl run tests/data/cli/violated-fast.yaml --out /proc/no-such-dir/out
[ $RC -eq 2 ] || { show_output; fail "unwritable --out: exit $RC, expected 2 (not 65)"; }
grep -q 'cannot create the output folder' "$TMP/stderr" || { show_output; fail "--out error not explained"; }
pass "exit codes: a violation wins, output problems are 2"

# Interrupted twice: the first SIGINT heals and waits for a stop grace of
# 40s that the service ignores; the second kills at once. The reports are
# still complete (valid JUnit marked interrupted, events to the end) and
# nothing is left.
set +e
"$FL" run tests/data/cli/stubborn.yaml --out "$TMP/sb" --junit "$TMP/sb.xml" >"$TMP/stdout" 2>"$TMP/stderr" &
flpid=$!
set -e
ev="$TMP/sb/stubborn/events.jsonl"
for _ in $(seq 1 150); do
  grep -q '"type":"ok","source":"process.pause","f":"fault"' "$ev" 2>/dev/null && break
  sleep 0.1
done
grep -q '"type":"ok","source":"process.pause","f":"fault"' "$ev" || { kill -9 $flpid; show_output; fail "stubborn: no pause"; }
kill -INT $flpid
for _ in $(seq 1 50); do grep -q '"f":"heal"' "$ev" && break; sleep 0.1; done
sleep 0.5
kill -0 $flpid 2>/dev/null || { show_output; fail "stubborn: the first Ctrl-C did not wait for the stop grace"; }
t0=$(date +%s)
kill -INT $flpid
set +e
wait $flpid
RC=$?
set -e
[ $(( $(date +%s) - t0 )) -lt 30 ] || fail "the second Ctrl-C did not kill at once"
[ $RC -eq 2 ] || { show_output; fail "double Ctrl-C: exit $RC, expected 2"; }
assert_junit_valid "$TMP/sb.xml"
grep -q 'interrupted by SIGINT' "$TMP/sb.xml" || fail "the JUnit does not say the run was interrupted"
tail -n 1 "$ev" | grep -q '"f":"phase".*"value":"done"' || fail "the events file does not end with the done phase"
assert_no_leftovers "$ev"
! ls "$FAULTLINE_STATE_DIR"/*.journal >/dev/null 2>&1 || fail "a journal was left behind"
pass "double Ctrl-C: kills at once, complete reports, nothing left"

# A history that cannot be written makes the verdict unknown, even when
# every invariant held: /dev/full fails every write. The JUnit is still
# written, and names the containment of the run's instances.
run_fl run tests/data/cli/pod-kill.yaml --out "$TMP/full" --junit "$TMP/full.xml" --events /dev/full
[ $RC -eq 2 ] || { show_output; fail "events to /dev/full: exit $RC, expected 2"; }
grep -q 'the history is incomplete: writing the --events file failed\|writing /dev/full failed' "$TMP/stderr" "$TMP/full.xml" \
  || { show_output; fail "the failed history write is not reported"; }
assert_junit_valid "$TMP/full.xml"
grep -q '<property name="target.containment" value="\(cgroup v2\|subreaper\)' "$TMP/full.xml" \
  || fail "the JUnit does not name the containment"
run_fl run tests/data/cli/pod-kill.yaml --out "$TMP/pass" --junit /proc/no-such-dir/j.xml
[ $RC -eq 2 ] || { show_output; fail "a passing run with an unwritable JUnit: exit $RC, expected 2"; }
pass "a failed history or report write makes the verdict unknown; the JUnit names the containment"
