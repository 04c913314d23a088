#!/usr/bin/env bash
# abort_if: the only replica frozen for 20 s trips "health unhealthy for
# 2s": the run heals at once (long before the fault's own end), skips the
# rest of its timeline, and its reports say aborted, naming the condition
# and the time. With a 500 ms freeze the condition is never met and the run
# passes. Bad conditions are refused at load with file:line:col.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
sc=tests/data/abort/stop.yaml

run_fl run $sc --out "$TMP/stop" --junit "$TMP/stop.xml"
[ $RC -eq 2 ] || { show_output; fail "stop condition met: exit $RC, expected 2"; }
assert_junit_valid "$TMP/stop.xml"
grep -q 'message="aborted: stop condition abort_if\[1\] (health unhealthy for 2s) (tests/data/abort/stop.yaml:[0-9]*) met at [0-9.]*s' "$TMP/stop.xml" \
  || { grep -o 'message="[^"]*"' "$TMP/stop.xml"; fail "the JUnit does not name the condition and time"; }
ev="$TMP/stop/stop-condition/events.jsonl"
grep -q '"source":"runner","f":"stop","key":"abort_if\[1\]' "$ev" || fail "no stop op in the history"
met=$(grep '"f":"stop"' "$ev" | sed -E 's/.*"time_us":([0-9]+).*/\1/')
heal=$(grep '"source":"process.pause","f":"heal"' "$ev" | grep '"type":"ok"' | head -1 | sed -E 's/.*"time_us":([0-9]+).*/\1/')
[ -n "$heal" ] || fail "the fault was not healed"
# Paused at 2 s for 20 s: healed right after the condition, not at 22 s.
[ "$heal" -ge "$met" ] && [ "$heal" -lt 15000000 ] || fail "healed at ${heal}us, condition met at ${met}us"
# The rest of the timeline was skipped: no workload op after the stop.
last_req=$(grep '"source":"submit","f":"request"' "$ev" | grep '"type":"invoke"' | tail -1 | sed -E 's/.*"time_us":([0-9]+).*/\1/')
[ "$last_req" -le "$met" ] || fail "requests issued after the stop condition (${last_req}us > ${met}us)"
assert_no_leftovers "$ev"
[ -s "$TMP/stop.html" ] || fail "no HTML report"
pass "met: healed at once, timeline skipped, JUnit names the condition and time"

run_fl run $sc --var pause=500ms --out "$TMP/pass" -q
[ $RC -eq 0 ] || { show_output; fail "a short freeze: exit $RC, expected 0"; }
! grep -q '"f":"stop"' "$TMP/pass/stop-condition/events.jsonl" || fail "a stop op without the condition met"
pass "not met: the run goes to its end and passes"

# Refused at load, each with its position.
cat > "$TMP/bad.yaml" <<'YAML'
name: bad-stops
services:
  api: { command: [jobsvc, --port, "${port}"] }
probes:
  health: { http: "http://${api}/healthz" }
abort_if:
  - { probe: nosuch, condition: unhealthy }
  - { probe: health, condition: above }
  - { probe: health, condition: below, value: lots }
  - { probe: health, condition: sometimes }
  - just a string
YAML
run_fl validate "$TMP/bad.yaml"
[ $RC -eq 65 ] || { show_output; fail "bad conditions: exit $RC, expected 65"; }
grep -q 'bad.yaml:7:.*nosuch' "$TMP/stderr" || { show_output; fail "unknown probe not at line 7"; }
grep -q 'bad.yaml:8:.*above needs a value' "$TMP/stderr" || { show_output; fail "missing value not at line 8"; }
grep -q "bad.yaml:9:.*'lots' is not one" "$TMP/stderr" || { show_output; fail "non-number not at line 9"; }
grep -q 'bad.yaml:10:.*sometimes' "$TMP/stderr" || { show_output; fail "bad condition not at line 10"; }
grep -q 'bad.yaml:11:.*expected a mapping' "$TMP/stderr" || { show_output; fail "a scalar entry not at line 11"; }
pass "bad conditions refused with file:line:col"
