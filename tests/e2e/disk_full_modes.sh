#!/usr/bin/env bash
# disk.full's three goals on a 4 MiB volume, measured by a disk probe in
# the same run: percent: 50 leaves it about half used, free: 1m leaves
# about 1 MiB free, the default fills it until a write fails with ENOSPC
# (the service's own dd says so); each heal frees the space again.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
[ "$(id -u)" = 0 ] || { echo "skip: volumes need root"; exit 77; }
cat >"$TMP/m.yaml" <<'YAML'
name: fill-modes
duration: 9s
settle: 0s
services:
  s:
    command: [sh, -c, "i=0; while :; do i=$$((i+1)); dd if=/dev/zero of=${volume.v}/p$$i bs=4k count=1 status=none; rm -f ${volume.v}/p$$i; sleep 0.2; done"]
    volumes: { v: { path: "${out}/v", size: 4m } }
probes:
  usage: { disk: "${s.0.volume.v}", every: 100ms }
faults:
  - { at: 1s, for: 1500ms, disk.full: { service: s, volume: v, percent: 50 } }
  - { at: 3500ms, for: 1500ms, disk.full: { service: s, volume: v, free: 1m } }
  - { at: 6s, for: 1500ms, disk.full: { service: s, volume: v } }
invariants:
  - bounded_usage: { probe: usage, max: 10% }
YAML
run_fl run "$TMP/m.yaml" --out "$TMP/o"
[ $RC -eq 0 ] || { show_output; fail "exit $RC (bounded_usage outside the faults must hold: each heal frees the space)"; }
python3 - "$TMP/o/fill-modes/events.jsonl" <<'PY' || fail "usage during the faults is not what was asked"
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
faults = [(o['time_us'], o['f']) for o in ops if o['f'] in ('fault', 'heal') and o['type'] == 'ok']
wins, start = [], None
for t, f in faults:
    if f == 'fault': start = t
    elif start is not None: wins.append((start, t)); start = None
assert len(wins) == 3, faults
use = [(o['time_us'], *map(int, o['value'].split('/'))) for o in ops
       if o['source'] == 'usage' and o['type'] == 'ok' and o.get('value')]
def during(w):  # samples well inside the window
    a, b = w
    return [(u, t) for ts, u, t in use if a + 200000 < ts < b - 100000]
MB = 1 << 20
for (u, t) in during(wins[0]): assert 0.45 * t <= u <= 0.55 * t, ('percent 50', u, t)
for (u, t) in during(wins[1]): assert 0.9 * MB <= t - u <= 1.1 * MB, ('free 1m', u, t)
for (u, t) in during(wins[2]): assert t - u < 64 * 1024, ('full', u, t)
assert all(during(w) for w in wins), 'no sample inside a fault window'
print('ok: percent 50 ->', during(wins[0])[0], 'free 1m ->', during(wins[1])[0], 'full ->', during(wins[2])[0])
PY
grep -q 'No space left on device' "$TMP/o/fill-modes/s.0.log" || fail "the service never hit ENOSPC"
if grep -F "$TMP" /proc/self/mountinfo; then fail "volume left mounted"; fi
pass "percent, free and full each reached; ENOSPC seen by the service; healed"
