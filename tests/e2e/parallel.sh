#!/usr/bin/env bash
# -j N and --matrix: one scenario in both directions as two jobs at once,
# each a faultline process of its own; the parent's JUnit and HTML hold
# both, named by the matrix value, and its exit code is the worst verdict.
# Ctrl-C (to the process group, as a terminal sends it) reaches every job:
# each heals and stops, the parent still writes its reports.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
sc=tests/data/report/short-kill.yaml

run_fl run $sc -j 2 --matrix profile=buggy,fixed --out "$TMP/par"
[ $RC -eq 1 ] || { show_output; fail "buggy and fixed: exit $RC, expected 1"; }
x="$TMP/par/junit.xml"
assert_junit_valid "$x"
[ "$(grep -c '<testsuite ' "$x")" -eq 2 ] || fail "expected 2 testsuites"
grep -q 'testsuite name="short-kill \[profile=buggy\]"[^>]*failures="1"' "$x" || { grep '<testsuite ' "$x"; fail "buggy suite"; }
grep -q 'testsuite name="short-kill \[profile=fixed\]"[^>]*failures="0"' "$x" || { grep '<testsuite ' "$x"; fail "fixed suite"; }
[ -s "$TMP/par/junit.html" ] || fail "no HTML report"
for v in buggy fixed; do
  d="$TMP/par/short-kill@profile=$v"
  [ -s "$d/console.log" ] && [ -s "$d/short-kill/events.jsonl" ] && [ -s "$d/short-kill/verdicts.json" ] \
    || fail "job $v: its folder is incomplete"
  assert_no_leftovers "$d/short-kill/events.jsonl"
done
# The two ran at once: each started before the other ended.
python3 - "$x" <<'PY' || fail "the jobs did not overlap"
import sys, datetime, xml.etree.ElementTree as ET
s = [(datetime.datetime.fromisoformat(t.get("timestamp")), float(t.get("time")))
     for t in ET.parse(sys.argv[1]).getroot().iter("testsuite")]
(a, da), (b, db) = s
assert a < b + datetime.timedelta(seconds=db) and b < a + datetime.timedelta(seconds=da), s
PY
# Cgroups and journals were each job's own, and none is left.
[ -z "$(ls "$FAULTLINE_STATE_DIR" 2>/dev/null | grep -E '\.(journal|sock)$' || true)" ] \
  || fail "journals or sockets left: $(ls "$FAULTLINE_STATE_DIR")"
pass "two jobs at once, one report over both, exit 1 for the violated one"

run_fl run $sc --matrix profile=fixed -j 1 --out "$TMP/one" -q
[ $RC -eq 0 ] || { show_output; fail "one fixed job: exit $RC"; }
run_fl run $sc --matrix profile --out "$TMP/x"
[ $RC -eq 64 ] || fail "--matrix without values: exit $RC, expected 64"
run_fl run $sc -j 0
[ $RC -eq 64 ] || fail "-j 0: exit $RC, expected 64"
run_fl run $sc --matrix nosuchvar=a,b --out "$TMP/bad"
[ $RC -eq 65 ] || { show_output; fail "matrix over an undeclared var: exit $RC, expected 65"; }
pass "usage: -j and --matrix checked"

# Ctrl-C to the whole process group mid-run.
setsid "$FL" run $sc -j 2 --matrix profile=buggy,fixed --out "$TMP/int" >"$TMP/int.out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  n=$( (grep -l '"f":"fault"' "$TMP"/int/*/short-kill/events.jsonl 2>/dev/null || true) | wc -l)
  [ "$n" -ge 2 ] && break
  sleep 0.1
done
kill -INT -- -"$pid"
set +e; wait "$pid"; rc=$?; set -e
[ $rc -eq 2 ] || { cat "$TMP/int.out"; fail "interrupted: exit $rc, expected 2"; }
[ "$(grep -c '<testsuite name="short-kill \[profile=[a-z]*\]"[^>]*errors="[1-9]' "$TMP/int/junit.xml")" -eq 2 ] \
  && [ "$(grep -o 'message="interrupted by SIGINT"' "$TMP/int/junit.xml" | wc -l)" -ge 2 ] \
  || { cat "$TMP/int.out"; fail "the JUnit does not mark both jobs interrupted"; }
for v in buggy fixed; do assert_no_leftovers "$TMP/int/short-kill@profile=$v/short-kill/events.jsonl"; done
pass "Ctrl-C: both jobs healed and stopped, reports written, exit 2"
