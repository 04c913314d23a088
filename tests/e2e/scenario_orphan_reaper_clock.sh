#!/usr/bin/env bash
# orphan-reaper-clock in both directions: a replica is killed mid-job and the
# survivor's clock jumps 11 minutes (libfaketime). Without the orphan reaper
# (profile buggy) lifecycle names the orphaned jobs; with it every job is
# terminal within seconds. Both runs also prove the clock control itself:
# the survivor's own /api/time is 660 s ahead exactly while the jump is
# active and real again after the heal, and no clock file outlives the run.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
command -v redis-server >/dev/null || { echo "skip: redis-server not installed"; exit 77; }
lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)
[ -n "$lib" ] || { echo "skip: libfaketime not installed"; exit 77; }

# The replica clocks the probe saw, against the run's own clock: ahead by
# 660 s (+-2 s) between the jump and its heal, real (+-2 s) otherwise.
check_clock() {
  python3 - "$1" <<'PY'
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
jump = next(o['time_us'] for o in ops if o['source'] == 'time.jump' and o['f'] == 'fault' and o['type'] == 'ok')
heal = next(o['time_us'] for o in ops if o['source'] == 'time.jump' and o['f'] == 'heal' and o['type'] == 'ok')
# judged by invoke and completion, so a slow answer never lands on the
# wrong side of the jump or the heal (100 ms for libfaketime to re-read)
def offs(lo, hi):
    out, inv = [], {}
    for o in ops:
        if o['source'] != 'clock' or o['f'] != 'probe':
            continue
        k = (o['process'], o.get('key'))
        if o['type'] == 'invoke':
            inv[k] = o['time_us']
        elif o['type'] == 'ok' and k in inv and inv[k] > lo + 100000 and o['time_us'] < hi:
            out.append(int(o['value']) - o['time_us'] // 1000)
    return out
before = offs(-1 << 62, jump)
during = offs(jump, heal)
after = offs(heal, 1 << 62)
assert before and during and after, (len(before), len(during), len(after))
base = before[0]
assert all(abs(d - base) < 2000 for d in before), before
assert all(abs(d - base - 660000) < 2000 for d in during), during
assert all(abs(d - base) < 2000 for d in after), after
print('clock: %d samples real before, %d at +660s during the jump, %d real after the heal'
      % (len(before), len(during), len(after)))
PY
}

run_fl run scenarios/orphan-reaper-clock.yaml --var profile=buggy --out "$TMP/buggy" --junit "$TMP/buggy.xml"
[ $RC -eq 1 ] || { show_output; fail "buggy: exit $RC, expected 1"; }
python3 - "$TMP/buggy.xml" <<'PY' || fail "buggy: lifecycle(submit) did not name the orphans"
import re, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
tc = [t for t in root.iter('testcase') if t.get('name') == 'lifecycle(submit)'][0]
f = tc.find('failure')
assert f is not None, 'lifecycle(submit) has no failure'
ids = re.findall(r'^(api-\d+-\d+-\d+-[0-9a-f]+): last seen (?:pending|running)', f.text or '', re.M)
assert ids, 'no orphaned job ids: ' + (f.text or '')[:400]
print('orphans left active:', len(ids))
PY
check_clock "$TMP/buggy/orphan-reaper-clock/events.jsonl" || fail "buggy: the clock did not jump and come back"
assert_junit_valid "$TMP/buggy.xml"
assert_no_leftovers "$TMP/buggy/orphan-reaper-clock/events.jsonl"
pass "buggy profile caught"

run_fl run scenarios/orphan-reaper-clock.yaml --out "$TMP/fixed" --junit "$TMP/fixed.xml"
[ $RC -eq 0 ] || { show_output; fail "fixed: exit $RC, expected 0"; }
grep -q '<failure' "$TMP/fixed.xml" && fail "fixed run has a failure"
# the reaper did the work: some jobs ended failed (orphaned), not all complete
python3 - "$TMP/fixed/orphan-reaper-clock/events.jsonl" <<'PY' || fail "fixed: no job was reaped"
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
failed = {o['key'] for o in ops if o['f'] == 'poll' and o['type'] == 'ok' and o['value'] == 'failed'}
assert failed, 'no job ended failed: the orphans were not reaped'
print('reaped:', len(failed))
PY
check_clock "$TMP/fixed/orphan-reaper-clock/events.jsonl" || fail "fixed: the clock did not jump and come back"
assert_junit_valid "$TMP/fixed.xml"
assert_no_leftovers "$TMP/fixed/orphan-reaper-clock/events.jsonl"
ls "$FAULTLINE_STATE_DIR" | grep -q 'clock' && fail "a clock file outlived the run: $(ls "$FAULTLINE_STATE_DIR")"
ls "$FAULTLINE_STATE_DIR" | grep -q 'journal' && fail "a journal outlived the run"
pass "fixed profile passes; no clock file left"
