#!/usr/bin/env bash
# silent-message-loss in both directions: an intake paging the message API
# by creation date never ingests replies to old threads; delivered names
# each lost message and where it was last seen. Paging by activity ingests
# everything, also while the API is slowed down by http.delay.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

run_fl run scenarios/silent-message-loss.yaml --var profile=buggy --out "$TMP/buggy" --junit "$TMP/buggy.xml"
[ $RC -eq 1 ] || { show_output; fail "buggy: exit $RC, expected 1"; }
python3 - "$TMP/buggy.xml" <<'PY' || fail "buggy: delivered did not name the lost messages"
import re, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
tc = [t for t in root.iter('testcase') if t.get('name') == 'delivered(source)'][0]
f = tc.find('failure')
assert f is not None, 'delivered(source) did not fail'
assert re.search(r'\d+ of \d+ items from source never reached sink', f.get('message', '')), f.get('message')
lost = re.findall(r'^(m\d+): lost: last seen at the source', f.text or '', re.M)
assert lost, 'no lost message ids in the failure body'
print('lost:', len(lost), 'e.g.', lost[:3])
PY
assert_junit_valid "$TMP/buggy.xml"
assert_no_leftovers "$TMP/buggy/silent-message-loss/events.jsonl"
pass "buggy profile caught"

run_fl run scenarios/silent-message-loss.yaml --out "$TMP/fixed" --junit "$TMP/fixed.xml"
[ $RC -eq 0 ] || { show_output; fail "fixed: exit $RC, expected 0"; }
assert_junit_valid "$TMP/fixed.xml"
grep -q '<failure' "$TMP/fixed.xml" && fail "fixed run has a failure"
grep -q 'all [0-9]* items from source reached sink' "$TMP/stdout" || fail "fixed: no delivered summary"
assert_no_leftovers "$TMP/fixed/silent-message-loss/events.jsonl"
pass "fixed profile passes"
