#!/usr/bin/env bash
# rate-limited-dependency in both directions: boot-time exports plus
# retries that ignore Retry-After are caught by rate_limit(dep) (a busy
# window, early requests, a retry storm) and lifecycle(submit) (jobs that
# failed); with the fixes both hold. The proxy's exchanges are in the
# history either way.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

run_fl run scenarios/rate-limited-dependency.yaml --var profile=buggy --out "$TMP/buggy" --junit "$TMP/buggy.xml"
[ $RC -eq 1 ] || { show_output; fail "buggy: exit $RC, expected 1"; }
python3 - "$TMP/buggy.xml" <<'PY' || fail "buggy: rate_limit/lifecycle did not fail as expected"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
tcs = {t.get('name'): t for t in root.iter('testcase')}
rl = tcs['rate_limit(dep)'].find('failure')
assert rl is not None, 'rate_limit(dep) did not fail'
msg = rl.get('message', '')
assert 'sent before Retry-After ran out' in msg and 'retry storm' in msg, msg
lc = tcs['lifecycle(submit)'].find('failure')
assert lc is not None, 'lifecycle(submit) did not fail'
assert 'ended failed' in (lc.text or ''), lc.text
print('rate_limit:', msg)
PY
assert_junit_valid "$TMP/buggy.xml"
ev="$TMP/buggy/rate-limited-dependency/events.jsonl"
grep -q '"source":"proxy","f":"http"' "$ev" || fail "no proxy exchanges in the history"
grep -q 'x-faultline-injected\|injected\\":true' "$ev" || fail "no injected 429 in the history"
assert_no_leftovers "$ev"
pass "buggy profile caught"

run_fl run scenarios/rate-limited-dependency.yaml --out "$TMP/fixed" --junit "$TMP/fixed.xml"
[ $RC -eq 0 ] || { show_output; fail "fixed: exit $RC, expected 0"; }
assert_junit_valid "$TMP/fixed.xml"
grep -q '<failure' "$TMP/fixed.xml" && fail "fixed run has a failure"
ev="$TMP/fixed/rate-limited-dependency/events.jsonl"
n=$(grep -c '"source":"proxy","f":"http"' "$ev" || true)
[ "$n" -ge 5 ] || fail "fixed: only $n exchanges through the proxy (the jobs' calls should be there)"
assert_no_leftovers "$ev"
pass "fixed profile passes ($n exchanges through the proxy)"
