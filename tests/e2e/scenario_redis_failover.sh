#!/usr/bin/env bash
# redis-failover in both directions, against real redis-server and
# redis-sentinel processes: with the sticky fallback a replica stays on its
# file cache after the failover and faultline names it in agreement(store)
# and recovers(store); with recover every replica returns and it passes.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

run_fl run scenarios/redis-failover.yaml --var profile=buggy --out "$TMP/buggy" --junit "$TMP/buggy.xml"
[ $RC -eq 1 ] || { show_output; fail "buggy: exit $RC, expected 1"; }
python3 - "$TMP/buggy.xml" <<'PY' || { show_output; fail "buggy: agreement/recovers did not name the stuck replica"; }
import re, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = {t.get('name'): t for t in root.iter('testcase')}
for name in ['agreement(store)', 'recovers(store)']:
    f = cases[name].find('failure')
    assert f is not None, name + ' did not fail'
    text = f.get('message', '') + (f.text or '')
    assert re.search(r'api\.[0-2]', text), name + ': no replica named: ' + text[:300]
    assert 'file' in text, name + ': the stuck value is not shown'
    print(name, '->', f.get('message'))
out = root.find('.//system-out').text or ''
assert 'promoted redis.1' in out, 'the promotion is not in the timeline'
PY
assert_junit_valid "$TMP/buggy.xml"
assert_no_leftovers "$TMP/buggy/redis-failover/events.jsonl"

run_fl run scenarios/redis-failover.yaml --out "$TMP/fixed" --junit "$TMP/fixed.xml"
[ $RC -eq 0 ] || { show_output; fail "fixed: exit $RC, expected 0"; }
grep -q 'promoted redis.1' "$TMP/fixed.xml" || fail "fixed: no promotion in the timeline"
assert_junit_valid "$TMP/fixed.xml"
assert_no_leftovers "$TMP/fixed/redis-failover/events.jsonl"
pass "redis-failover: sticky caught, recover passes"
