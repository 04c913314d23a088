#!/usr/bin/env bash
# stale-retry in both directions: with --retry-reset status-only (profile
# buggy) fresh_retry names the jobs that came back "complete at once" with
# the old attempt, and with --effects unfenced unique_effects names the
# jobs whose side effect the frozen replica recorded a second time; with a
# full reset every retried job runs again, and with fenced effects each
# request's side effect is in the sink once.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
command -v redis-server >/dev/null || { echo "skip: redis-server not installed"; exit 77; }

run_fl run scenarios/stale-retry.yaml --var profile=buggy --out "$TMP/buggy" --junit "$TMP/buggy.xml"
[ $RC -eq 1 ] || { show_output; fail "buggy: exit $RC, expected 1"; }
python3 - "$TMP/buggy.xml" <<'PY' || fail "buggy: fresh_retry did not fail with the stale job ids"
import re, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
tc = [t for t in root.iter('testcase') if t.get('name', '').startswith('fresh_retry')][0]
f = tc.find('failure')
assert f is not None, 'fresh_retry has no failure'
assert re.search(r'\d+ of \d+ retried jobs were not re-executed', f.get('message', '')), f.get('message')
ids = re.findall(r'^(api-\d+-\d+-\d+-[0-9a-f]+): retried, then complete at once.*still 1: not re-executed', f.text or '', re.M)
assert ids, 'no job ids in the failure body: ' + (f.text or '')[:500]
print('fresh_retry failure:', f.get('message'))
tc = [t for t in root.iter('testcase') if t.get('name', '').startswith('unique_effects')][0]
f = tc.find('failure')
assert f is not None, 'unique_effects has no failure'
dups = re.findall(r'^"(api-\d+-\d+-\d+-[0-9a-f]+/0)": [2-9] effects of one request', f.text or '', re.M)
assert dups, 'no duplicated request ids: ' + (f.text or '')[:500]
print('unique_effects failure:', f.get('message'))
PY
assert_junit_valid "$TMP/buggy.xml"
assert_no_leftovers "$TMP/buggy/stale-retry/events.jsonl"
pass "buggy profile caught"

run_fl run scenarios/stale-retry.yaml --out "$TMP/fixed" --junit "$TMP/fixed.xml"
[ $RC -eq 0 ] || { show_output; fail "fixed: exit $RC, expected 0"; }
grep -q '<failure' "$TMP/fixed.xml" && fail "fixed run has a failure"
grep -q 'all 5 retried jobs ran again' "$TMP/stdout" || { show_output; fail "fixed: not every retry judged"; }
# the copies were really sent: 15 answers; of each batch of 3 one was
# accepted and the others, arriving while the job was active again, got 409
# (two accepted copies of one batch would run the job twice: fresh_retry
# reports that as invalid)
python3 - "$TMP/fixed/stale-retry/events.jsonl" <<'PY' || fail "fixed: copies not recorded as expected"
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
answers = [o for o in ops if o['f'] == 'retry' and o['type'] != 'invoke']
assert len(answers) == 15, len(answers)
ok = sum(o['type'] == 'ok' for o in answers)
assert ok == 5, [o['value'] for o in answers]
assert all(o['value'] == 'http:409' for o in answers if o['type'] == 'fail'), [o['value'] for o in answers]
print('retry copies: %d accepted, %d refused with 409' % (ok, len(answers) - ok))
PY
assert_junit_valid "$TMP/fixed.xml"
assert_no_leftovers "$TMP/fixed/stale-retry/events.jsonl"
pass "fixed profile passes"
