#!/usr/bin/env bash
# disk-errors in both directions (no root needed): the silent-retry bug is
# caught by honest_health with the stall interval; the fixed loader is 503
# while its writes fail with EIO, counts the errors, and passes. The library
# really failed the loader's calls: its own log names the errno.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

run_fl run scenarios/disk-errors.yaml --var profile=buggy --out "$TMP/buggy" --junit "$TMP/buggy.xml"
[ $RC -eq 1 ] || { show_output; fail "buggy: exit $RC, expected 1"; }
python3 - "$TMP/buggy.xml" <<'PY' || { show_output; fail "buggy: honest_health did not fail with a stall interval"; }
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
tc = {t.get('name'): t for t in root.iter('testcase')}
f = tc['honest_health(rows)'].find('failure')
assert f is not None, 'honest_health passed'
assert 'stalled from' in (f.text or ''), f.text
print('honest_health:', f.get('message'))
PY
grep -q 'write_errors' "$TMP/buggy/disk-errors/loader.0.log" && fail "buggy loader said something" || true
assert_junit_valid "$TMP/buggy.xml"
assert_no_leftovers "$TMP/buggy/disk-errors/events.jsonl"
pass "buggy profile caught"

run_fl run scenarios/disk-errors.yaml --var profile=fixed --out "$TMP/fixed" --junit "$TMP/fixed.xml"
[ $RC -eq 0 ] || { show_output; fail "fixed: exit $RC, expected 0"; }
grep -q '<failure' "$TMP/fixed.xml" && fail "fixed run has a failure"
grep -q 'Input/output error; retrying, health is 503' "$TMP/fixed/disk-errors/loader.0.log" \
  || { cat "$TMP/fixed/disk-errors/loader.0.log"; fail "the fixed loader never saw EIO"; }
grep -q '"value":"http:503"' "$TMP/fixed/disk-errors/events.jsonl" || fail "health never said 503"
ls "$FAULTLINE_STATE_DIR"/*.ioerr-* 2>/dev/null && fail "control file left behind" || true
assert_junit_valid "$TMP/fixed.xml"
assert_no_leftovers "$TMP/fixed/disk-errors/events.jsonl"
pass "fixed profile passes"
