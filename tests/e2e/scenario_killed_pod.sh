#!/usr/bin/env bash
# killed-pod-mid-job in both directions: the abandon bug is caught by
# lifecycle(submit) with the zombie job ids; with leases every job completes.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

run_fl run scenarios/killed-pod-mid-job.yaml --var profile=buggy --out "$TMP/buggy" --junit "$TMP/buggy.xml"
[ $RC -eq 1 ] || { show_output; fail "buggy: exit $RC, expected 1"; }
grep -q 'testcase name="lifecycle(submit)"' "$TMP/buggy.xml" || fail "no lifecycle testcase"
python3 - "$TMP/buggy.xml" <<'PY' || fail "buggy: lifecycle(submit) did not fail with job ids"
import re, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
tc = [t for t in root.iter('testcase') if t.get('name') == 'lifecycle(submit)'][0]
f = tc.find('failure')
assert f is not None, 'lifecycle(submit) has no failure'
body = f.text or ''
assert re.search(r'\d+ of \d+ jobs accepted by submit never reached complete', f.get('message', '')), f.get('message')
ids = re.findall(r'^(api-\d+-\d+-\d+-[0-9a-f]+): last seen (?:pending|running)', body, re.M)
assert ids, 'no job ids with their last status in the failure body'
print('lifecycle failure:', f.get('message'))
PY
assert_junit_valid "$TMP/buggy.xml"
assert_no_leftovers "$TMP/buggy/killed-pod-mid-job/events.jsonl"
pass "buggy profile caught: $(grep -m1 'lifecycle' "$TMP/stdout" || true)"

run_fl run scenarios/killed-pod-mid-job.yaml --out "$TMP/fixed" --junit "$TMP/fixed.xml"
[ $RC -eq 0 ] || { show_output; fail "fixed: exit $RC, expected 0"; }
assert_junit_valid "$TMP/fixed.xml"
grep -q '<failure' "$TMP/fixed.xml" && fail "fixed run has a failure"
grep -q 'process.kill' "$TMP/fixed.xml" || fail "fault timeline missing from system-out"
assert_no_leftovers "$TMP/fixed/killed-pod-mid-job/events.jsonl"
pass "fixed profile passes"
