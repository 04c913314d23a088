#!/usr/bin/env bash
# replica-state-split in both directions: per-replica memory state is caught
# by transitions(submit) (the pending / not found flip); Redis state passes.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

run_fl run scenarios/replica-state-split.yaml --var profile=buggy --out "$TMP/buggy" --junit "$TMP/buggy.xml"
[ $RC -eq 1 ] || { show_output; fail "buggy: exit $RC, expected 1"; }
python3 - "$TMP/buggy.xml" <<'PY' || fail "buggy: transitions(submit) did not fail with job ids and http:404"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
tc = [t for t in root.iter('testcase') if t.get('name') == 'transitions(submit)'][0]
f = tc.find('failure')
assert f is not None, 'transitions(submit) has no failure'
assert 'http:404' in (f.text or ''), 'no http:404 in the counterexamples'
print('transitions failure:', f.get('message'))
PY
assert_junit_valid "$TMP/buggy.xml"
assert_no_leftovers "$TMP/buggy/replica-state-split/events.jsonl"

run_fl run scenarios/replica-state-split.yaml --var profile=fixed --out "$TMP/fixed" --junit "$TMP/fixed.xml" --events "$TMP/all.jsonl"
[ $RC -eq 0 ] || { show_output; fail "fixed: exit $RC, expected 0"; }
assert_junit_valid "$TMP/fixed.xml"
[ -s "$TMP/all.jsonl" ] || fail "--events file is empty"
python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$TMP/all.jsonl" || fail "--events is not JSON lines"
assert_no_leftovers "$TMP/fixed/replica-state-split/events.jsonl"
pass "fixed profile passes"
