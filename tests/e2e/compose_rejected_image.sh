#!/usr/bin/env bash
# rejected-image against the demo as a compose project, in both directions,
# with the scenario file of the local target and only the target changed:
# image.reject sets the api containers' restart policy to "no" and refuses
# every start, process.kill kills two of them, capacity(api) must be
# surfaced by /healthz (profile fixed) or is caught hidden (buggy). Every
# refused restart is in the history with its reason, the heal starts the
# killed containers and puts the restart policy back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_compose.sh"
cd "$SRC"
compose_setup

target=(--target compose --compose-project "$PROJECT")
# What the scenario pins on the local target's command line.
args="--state redis --shutdown drain --min-peers 3 --workers 2 --job-ms 200"

check_history() {
  python3 - "$1" <<'PY'
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
inst = [o for o in ops if o['f'] == 'instance' and (o['key'] or '').startswith('api.')]
refused = [o for o in inst if o['value'].startswith('restart refused: mutable tag not admitted')]
assert refused, 'no refused restart with its reason in the history'
blocked = [o for o in inst if o['value'].startswith('restarts blocked (restart policy always -> no)')]
assert len(blocked) == 3, 'want the 3 api containers blocked, got %d' % len(blocked)
heal = [o for o in ops if o['f'] == 'heal' and o['source'] == 'image.reject' and o['type'] == 'invoke']
assert len(heal) == 1, 'image.reject was not healed once: %r' % heal
killed = {o['key'] for o in inst if o['value'].startswith('killed by SIGKILL')}
assert len(killed) == 2, 'want 2 killed replicas, got %r' % killed
for k in killed:
    starts = [o for o in inst if o['key'] == k and o['value'].startswith('started container')]
    kill = [o for o in inst if o['key'] == k and o['value'].startswith('killed by SIGKILL')][0]
    assert not [s for s in starts if kill['index'] < s['index'] < heal[0]['index']], k + ' started while rejected'
    assert [s for s in starts if s['index'] > heal[0]['index']], k + ' was not started after the heal'
print('%d refusals recorded; %s restarted after the heal' % (len(refused), ', '.join(sorted(killed))))
PY
}

compose_up buggy "$args"
run_fl run scenarios/rejected-image.yaml --var profile=buggy "${target[@]}" \
  --out "$TMP/buggy" --junit "$TMP/buggy.xml"
[ $RC -eq 1 ] || { show_output; fail "buggy: exit $RC, expected 1"; }
python3 - "$TMP/buggy.xml" <<'PY' || fail "buggy: capacity(api) did not fail as hidden"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
tc = [t for t in root.iter('testcase') if t.get('name') == 'capacity(api)'][0]
f = tc.find('failure')
assert f is not None, 'capacity(api) has no failure'
assert 'while health said it was healthy' in f.get('message', ''), f.get('message')
print('capacity failure:', f.get('message'))
PY
assert_junit_valid "$TMP/buggy.xml"
check_history "$TMP/buggy/rejected-image/events.jsonl" || fail "buggy: history"
assert_project_restored
pass "buggy profile caught on compose: the hidden capacity loss"

compose_up fixed "$args"
run_fl run scenarios/rejected-image.yaml "${target[@]}" --out "$TMP/fixed" --junit "$TMP/fixed.xml"
[ $RC -eq 0 ] || { show_output; fail "fixed: exit $RC, expected 0"; }
assert_junit_valid "$TMP/fixed.xml"
grep -q '<failure' "$TMP/fixed.xml" && fail "fixed run has a failure"
grep -q 'reported it degraded every time' "$TMP/stdout" || { show_output; fail "fixed: no surfaced verdict"; }
check_history "$TMP/fixed/rejected-image/events.jsonl" || fail "fixed: history"
assert_project_restored
! ls "$FAULTLINE_STATE_DIR"/*.journal >/dev/null 2>&1 || fail "a journal was left behind"
pass "fixed profile passes on compose"
