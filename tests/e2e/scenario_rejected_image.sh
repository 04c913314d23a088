#!/usr/bin/env bash
# rejected-image in both directions: replicas die while image.reject refuses
# their restarts. With peer-health=ignore (buggy) /healthz says "ok" on the
# survivor and capacity(api) fails ("the loss was hidden"); with report
# (fixed) it says "degraded" while capacity is low and the invariant holds.
# Either way every refused restart is in the history with its reason, and
# the heal lets the target start the killed replicas again.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

# The history shows the refusals and the restarts after the heal.
check_history() {
  python3 - "$1" <<'PY'
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
inst = [o for o in ops if o['f'] == 'instance' and (o['key'] or '').startswith('api.')]
refused = [o for o in inst if o['value'].startswith('restart refused: mutable tag not admitted')]
assert refused, 'no refused restart with its reason in the history'
heal = [o for o in ops if o['f'] == 'heal' and o['source'] == 'image.reject' and o['type'] == 'invoke']
assert len(heal) == 1, 'image.reject was not healed once: %r' % heal
killed = {o['key'] for o in inst if o['value'] == 'killed by SIGKILL'}
assert len(killed) == 2, 'want 2 killed replicas, got %r' % killed
for k in killed:
    # no start while rejected, a start after the heal
    starts = [o for o in inst if o['key'] == k and o['value'].startswith('started pid')]
    kill = [o for o in inst if o['key'] == k and o['value'] == 'killed by SIGKILL'][0]
    assert not [s for s in starts if kill['index'] < s['index'] < heal[0]['index']], k + ' started while rejected'
    assert [s for s in starts if s['index'] > heal[0]['index']], k + ' was not started after the heal'
print('%d refusals recorded; %s restarted after the heal' % (len(refused), ', '.join(sorted(killed))))
PY
}

run_fl run scenarios/rejected-image.yaml --var profile=buggy --out "$TMP/buggy" --junit "$TMP/buggy.xml"
[ $RC -eq 1 ] || { show_output; fail "buggy: exit $RC, expected 1"; }
python3 - "$TMP/buggy.xml" <<'PY' || fail "buggy: capacity(api) did not fail as hidden"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
tc = [t for t in root.iter('testcase') if t.get('name') == 'capacity(api)'][0]
f = tc.find('failure')
assert f is not None, 'capacity(api) has no failure'
assert 'while health said it was healthy' in f.get('message', ''), f.get('message')
assert 'the loss was hidden' in (f.text or ''), f.text
print('capacity failure:', f.get('message'))
PY
assert_junit_valid "$TMP/buggy.xml"
check_history "$TMP/buggy/rejected-image/events.jsonl" || fail "buggy: history"
assert_no_leftovers "$TMP/buggy/rejected-image/events.jsonl"
# the recorded history judged again offline gives the same verdict
run_fl check "$TMP/buggy/rejected-image/events.jsonl" scenarios/rejected-image.yaml --var profile=buggy
[ $RC -eq 1 ] || { show_output; fail "check of the buggy history: exit $RC, expected 1"; }
grep -q 'the loss was hidden' "$TMP/stdout" || { show_output; fail "check: no hidden-loss counterexample"; }
pass "buggy profile caught: the hidden capacity loss"

run_fl run scenarios/rejected-image.yaml --out "$TMP/fixed" --junit "$TMP/fixed.xml"
[ $RC -eq 0 ] || { show_output; fail "fixed: exit $RC, expected 0"; }
assert_junit_valid "$TMP/fixed.xml"
grep -q '<failure' "$TMP/fixed.xml" && fail "fixed run has a failure"
grep -q 'reported it degraded every time' "$TMP/stdout" || { show_output; fail "fixed: no surfaced verdict"; }
grep -q 'image.reject' "$TMP/fixed.xml" || fail "fault timeline missing from system-out"
check_history "$TMP/fixed/rejected-image/events.jsonl" || fail "fixed: history"
assert_no_leftovers "$TMP/fixed/rejected-image/events.jsonl"
pass "fixed profile passes: the loss is surfaced"
