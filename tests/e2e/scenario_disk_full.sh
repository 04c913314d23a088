#!/usr/bin/env bash
# disk-full in both directions: with the loader's bugs on, honest_health
# (health said ok while rows_read stalled), progress and bounded_usage are
# violated; with them off the run passes. Volumes need root: skipped (77)
# without it. Afterwards no mount, fill file or journal is left.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
[ "$(id -u)" = 0 ] || { echo "skip: volumes need root"; exit 77; }

assert_no_volume_left() {
  if grep -F "$TMP" /proc/self/mountinfo; then fail "a volume is still mounted under $TMP"; fi
  if find "$TMP" -name '.faultline-fill-*' | grep -q .; then fail "a fill file is left"; fi
  if ls "$FAULTLINE_STATE_DIR"/*.journal 2>/dev/null | grep -q .; then fail "a journal is left"; fi
  pass "no mount, fill file or journal left"
}

run_fl run scenarios/disk-full.yaml --var profile=buggy --out "$TMP/buggy" --junit "$TMP/buggy.xml"
[ $RC -eq 1 ] || { show_output; fail "buggy: exit $RC, expected 1"; }
python3 - "$TMP/buggy.xml" <<'PY' || { show_output; fail "buggy: the expected invariants did not fail"; }
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
failed = {t.get('name'): t.find('failure') for t in root.iter('testcase')}
for name in ('honest_health(rows)', 'progress(rows)', 'bounded_usage(usage)'):
    assert failed.get(name) is not None, name + ' did not fail'
    print(name, '->', failed[name].get('message'))
assert 'said healthy' in failed['honest_health(rows)'].get('message'), 'honest_health message'
assert 'stalled from' in (failed['honest_health(rows)'].text or ''), 'no stall interval in the counterexample'
PY
assert_junit_valid "$TMP/buggy.xml"
assert_no_leftovers "$TMP/buggy/disk-full/events.jsonl"
assert_no_volume_left
cat "$TMP/stdout" "$TMP/stderr" | grep -q "disk.full loader.0" || fail "fault not on the console"
pass "buggy profile caught"

run_fl run scenarios/disk-full.yaml --var profile=fixed --out "$TMP/fixed" --junit "$TMP/fixed.xml"
[ $RC -eq 0 ] || { show_output; fail "fixed: exit $RC, expected 0"; }
grep -q '<failure' "$TMP/fixed.xml" && fail "fixed run has a failure"
cat "$TMP/stdout" "$TMP/stderr" | grep -q "said unhealthy through each of" || { show_output; fail "fixed: health was never judged through a stall"; }
grep -q 'No space left on device' "$TMP/fixed/disk-full/loader.0.log" || fail "fixed loader did not report ENOSPC"
assert_junit_valid "$TMP/fixed.xml"
assert_no_leftovers "$TMP/fixed/disk-full/events.jsonl"
assert_no_volume_left
pass "fixed profile passes"
