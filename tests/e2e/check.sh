#!/usr/bin/env bash
# `faultline check`: re-judge recorded histories. Each fixture under
# tests/data/histories/ (written by make.py there) holds one trick that
# tries to fool a checker or to pass an incomplete history off as whole;
# the real binary must give the right verdict, exit code and
# counterexample keys. Then a real run is checked again from its
# events.jsonl: the same verdicts, and none once a line of it is lost.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
D=tests/data/histories

# check FIXTURE SCENARIO RC [PATTERN...]: exit code RC, every pattern in stdout.
check() {
  local fixture=$1 scenario=$2 want=$3 pat
  shift 3
  run_fl check "$D/$fixture.jsonl" "$D/$scenario.yaml" -v
  [ "$RC" -eq "$want" ] || { show_output; fail "$fixture: exit $RC, expected $want"; }
  for pat in "$@"; do
    grep -qF -- "$pat" "$TMP/stdout" || { show_output; fail "$fixture: no '$pat' in the output"; }
  done
  pass "$fixture: exit $want"
}

# ---- usage -------------------------------------------------------------------
run_fl check --help
[ $RC -eq 0 ] && grep -q 'Judge a recorded history again' "$TMP/stdout" \
  && grep -q 'Exit: 0 every invariant held' "$TMP/stdout" || fail "check --help"
run_fl --help
grep -q 'faultline check EVENTS.jsonl SCENARIO' "$TMP/stdout" || fail "check is not in faultline --help"
for args in "" "$D/run-ok.jsonl" "$D/run-ok.jsonl $D/jobs.yaml extra" "--frobnicate $D/run-ok.jsonl $D/jobs.yaml" \
            "$D/run-ok.jsonl $D" "$D/run-ok.jsonl $D/jobs.yaml --var novalue"; do
  # shellcheck disable=SC2086
  run_fl check $args
  [ $RC -eq 64 ] || { show_output; fail "check $args: exit $RC, expected 64"; }
done
pass "usage errors exit 64"

# ---- the scenario --------------------------------------------------------------
run_fl check "$D/run-ok.jsonl" tests/data/cli/broken.yaml
[ $RC -eq 65 ] && grep -q 'broken.yaml:[0-9]*:[0-9]*: error: ' "$TMP/stderr" || { show_output; fail "invalid scenario: exit $RC"; }
run_fl check "$D/recovers-once-then-down.jsonl" "$D/recovers.yaml" --var nosuchvar=1
[ $RC -eq 65 ] || { show_output; fail "undeclared --var: exit $RC, expected 65"; }
run_fl check "$D/recovers-once-then-down.jsonl" "$D/recovers.yaml" --var profile=buggy
[ $RC -eq 1 ] || { show_output; fail "declared --var: exit $RC, expected 1"; }
pass "invalid scenarios exit 65"

# ---- whole runs, and what can happen to their files ---------------------------------
check run-ok jobs 0 "PASS  jobs  (recorded in $D/run-ok.jsonl" "ok   lifecycle(submit): all 10 jobs" \
  "ok   recovers(health)" "PASS: every invariant held"
check run-gap jobs 2 "1 ops are missing from $D/run-gap.jsonl: line 41 holds op 41 where op 40 was due" \
  "the recorded ops alone give valid: all 10 jobs"
check run-truncated jobs 2 "stops before the run's final record (runner phase \"done\")"
check run-duplicate jobs 2 "run-duplicate.jsonl:51: op 49 comes after op 49"
check run-two-runs jobs 2 "holds more than one run (the op index starts again at 0 on line"
check run-harness-error jobs 2 "the recorded run did not complete: injection failed" "lifecycle(submit): not checked"
# a violation wins over an unknown verdict, but not over a lost line
check run-violated-and-unknown jobs 1 "FAIL lifecycle(submit)" "UNKN recovers(health)" "job-3: last seen pending"
check run-violated-with-gap jobs 2 "the recorded ops alone give invalid: 1 of 10 jobs" "job-3:"

# ---- one trick per checker -------------------------------------------------------------
check lifecycle-keyless lifecycle 1 "5 accepted requests carried no job id" "the other 10 reached complete" \
  "submit#35: accepted at 4.0s (202) but carried no job id: capture job: no value at /job_id" "submit#155:"
check lifecycle-stuck lifecycle 1 "1 of 10 jobs accepted by submit never reached complete" "job-7: last seen pending"
check lifecycle-unanswered lifecycle 2 "1 of 4 jobs accepted by submit were not observed for 10s" \
  "job-late: last observed at 3.0s"
check transitions-flip transitions 1 "job-4: pending@6.2s -> http:404@6.5s -> pending@6.8s"
check transitions-overlap transitions 0 "all 4 keys followed by submit moved forward"
check recovers-once-then-down recovers 1 "health did not stay healthy after recovering: 46 unhealthy samples" \
  "health/after-fault-1: unhealthy again from 7.0s to 29.5s (46 samples)"
check recovers-flapping recovers 1 "10 unhealthy samples in 10 runs from 16.0s" "health/after-fault-1: unhealthy again at 16.0s"
check recovers-flapping recovers-tolerant 0 "(10 unhealthy runs of at most 1 samples tolerated)"
check recovers-never-sampled recovers 2 "health/fault-1: fault 1 (pause redis.0) ended at 12.0s; the run stopped sampling"
check recovers-gap recovers 2 "not sampled between 14.5s (fail: http:503) and 18.5s (healthy)"
check always-probe-hung always 1 "health: unhealthy at 35.0s: no answer recorded (invoked, never completed)"
check always-never-sampled always 2 "health/fault-1: not sampled after fault 1 (pause redis.0) ended at 12.0s"
check no_loss-lost no_loss 1 "1 of 20 acknowledged writes lost" "w-13: acknowledged at 2.3s, absent from the final read"
check no_loss-in-flight no_loss 0 "1 unknown: 0 recovered, 1 absent"
check no_loss-no-element no_loss 2 "1 acknowledged write names no key or element"
check agreement-split agreement 1 "api.1: api.1 reported file while api.0, api.2 reported redis from 6.0s"
check agreement-one-replica agreement 2 "only one replica of store reported"

# ---- JUnit --------------------------------------------------------------------------------
run_fl check "$D/lifecycle-keyless.jsonl" "$D/lifecycle.yaml" --junit "$TMP/keyless.xml" -q
[ $RC -eq 1 ] && [ "$(wc -l < "$TMP/stdout")" -le 8 ] || { show_output; fail "--junit -q: exit $RC"; }
assert_junit_valid "$TMP/keyless.xml"
grep -q 'carried no job id' "$TMP/keyless.xml" && grep -q 'submit#35' "$TMP/keyless.xml" \
  || fail "the JUnit failure does not name the requests without a job id"
run_fl check "$D/run-gap.jsonl" "$D/jobs.yaml" --junit "$TMP/gap.xml"
[ $RC -eq 2 ] || fail "--junit of a gap: exit $RC"
assert_junit_valid "$TMP/gap.xml"
grep -q 'ops are missing' "$TMP/gap.xml" || fail "the JUnit does not say why the verdict is unknown"
run_fl check "$D/run-ok.jsonl" "$D/jobs.yaml" --junit "$TMP/no/such/dir/x.xml"
[ $RC -eq 2 ] || fail "unwritable --junit: exit $RC, expected 2"
pass "JUnit reports"

# ---- files that are not histories -----------------------------------------------------------
expect_bad() {   # FILE PATTERN
  run_fl check "$1" "$D/jobs.yaml"
  [ $RC -eq 2 ] || { show_output; fail "$1: exit $RC, expected 2"; }
  grep -qF -- "$2" "$TMP/stderr" || { show_output; fail "$1: no '$2' on stderr"; }
}
expect_bad "$D/bad-type.jsonl" "$D/bad-type.jsonl:3:57: \"type\": expected one of invoke, ok, fail, info"
expect_bad "$D/bad-json.jsonl" "$D/bad-json.jsonl:6:35: invalid JSON"
expect_bad "$D/bad-binary.jsonl" "$D/bad-binary.jsonl:1:1: NUL byte"
expect_bad "$TMP/missing.jsonl" "$TMP/missing.jsonl: No such file or directory"
head -c 6000000 /dev/zero | tr '\0' 'x' > "$TMP/long.jsonl"
expect_bad "$TMP/long.jsonl" "long.jsonl:1:1: line longer than"
: > "$TMP/empty.jsonl"
run_fl check "$TMP/empty.jsonl" "$D/jobs.yaml"
[ $RC -eq 2 ] && grep -q 'holds no op' "$TMP/stdout" || { show_output; fail "empty file: exit $RC"; }
# random bytes and mangled lines: exit 2 with a position, never a crash
python3 - "$D/run-ok.jsonl" "$TMP" <<'PY'
import random, sys
src, tmp = sys.argv[1], sys.argv[2]
lines = open(src, 'rb').read().split(b'\n')
rnd = random.Random(7)
for i in range(40):
    ls = list(lines)
    k = rnd.randrange(len(ls) - 1)
    b = bytearray(ls[k])
    for _ in range(rnd.randrange(1, 6)):
        if b:
            b[rnd.randrange(len(b))] = rnd.randrange(256)
    ls[k] = bytes(b)
    open('%s/fuzz-%d.jsonl' % (tmp, i), 'wb').write(b'\n'.join(ls))
open('%s/fuzz-random.jsonl' % tmp, 'wb').write(bytes(rnd.randrange(256) for _ in range(100000)))
PY
for f in "$TMP"/fuzz-*.jsonl; do
  run_fl check "$f" "$D/jobs.yaml" -q
  [ $RC -le 2 ] && ! grep -q 'Sanitizer\|runtime error' "$TMP/stderr" || { show_output; fail "$f: exit $RC (crash?)"; }
  if [ $RC -eq 2 ] && grep -q 'cannot read the history' "$TMP/stdout"; then
    grep -q "$(basename "$f"):[0-9]*:[0-9]*: " "$TMP/stderr" || { show_output; fail "$f: error without file:line:col"; }
  fi
done
pass "malformed events files exit 2 with file:line:col"

# ---- a real run, judged again from its recording ------------------------------------------------
run_fl run "$D/live.yaml" --out "$TMP/live" --junit "$TMP/live.xml"
live_rc=$RC
[ $live_rc -le 2 ] || { show_output; fail "live run: exit $live_rc"; }
grep -E '^  (ok  |FAIL|UNKN|--  ) ' "$TMP/stdout" > "$TMP/live.verdicts"
[ -s "$TMP/live.verdicts" ] || { show_output; fail "no verdicts from the live run"; }
ev="$TMP/live/live/events.jsonl"
run_fl check "$ev" "$D/live.yaml"
[ $RC -eq $live_rc ] || { show_output; fail "check of the live run: exit $RC, the run exited $live_rc"; }
grep -E '^  (ok  |FAIL|UNKN|--  ) ' "$TMP/stdout" > "$TMP/check.verdicts"
diff -u "$TMP/live.verdicts" "$TMP/check.verdicts" || fail "check judged the recording differently from the run"
pass "the recording of a real run is judged as the run was (exit $live_rc)"
n=$(wc -l < "$ev")
sed "$((n / 2))d" "$ev" > "$TMP/live-gap.jsonl"
run_fl check "$TMP/live-gap.jsonl" "$D/live.yaml"
[ $RC -eq 2 ] && grep -q 'ops are missing' "$TMP/stdout" || { show_output; fail "a lost line: exit $RC, expected 2"; }
head -n $((n - 3)) "$ev" > "$TMP/live-cut.jsonl"
run_fl check "$TMP/live-cut.jsonl" "$D/live.yaml"
[ $RC -eq 2 ] && grep -q 'cut short' "$TMP/stdout" || { show_output; fail "a cut-short recording: exit $RC, expected 2"; }
assert_no_leftovers "$ev"
pass "a lost line or a cut-short recording of a real run is unknown"
