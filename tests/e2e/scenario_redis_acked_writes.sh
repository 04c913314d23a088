#!/usr/bin/env bash
# redis-acked-writes: what real Redis does when its primary is killed under
# writes. Not a fixed outcome: asynchronous replication may lose
# acknowledged writes. What must hold is that faultline counts honestly: the
# checker's numbers equal an independent count over the events file (every
# acknowledged write vs the final read), with WAIT (as shipped) and without.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

check_counts() {
  local dir=$1 label=$2
  python3 - "$dir/redis-acked-writes/events.jsonl" "$TMP/stdout" "$label" <<'PY'
import json, re, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
writes = {}
for o in ops:
    if o['f'] == 'write' and o['type'] != 'invoke':
        writes[o['value']] = o['type']
reads = [o for o in ops if o['f'] == 'read' and o['type'] == 'ok']
assert reads, 'no final read'
final = set(json.loads(reads[-1]['value']))
acked = {v for v, t in writes.items() if t == 'ok'}
lost = acked - final
unexpected = final - set(writes)
out = open(sys.argv[2]).read()
m = re.search(r'no_loss\(writes\): (.*)', out)
assert m, 'no no_loss line in the console output'
line = m.group(1)
print(sys.argv[3], 'independent count:', len(acked), 'acknowledged,', len(lost), 'lost,',
      len(unexpected), 'unexpected; faultline:', line)
if lost or unexpected:
    if lost:
        assert re.search(r'\b%d of %d acknowledged writes lost' % (len(lost), len(acked)), line), line
    if unexpected:
        assert re.search(r'\b%d elements? in the final read never written' % len(unexpected), line), line
else:
    assert 'all %d acknowledged writes are in the final read' % len(acked) in line, line
assert len(acked) > 100, 'too few acknowledged writes to mean anything'
PY
}

run_fl run scenarios/redis-acked-writes.yaml --out "$TMP/wait" --junit "$TMP/wait.xml"
{ [ $RC -eq 0 ] || [ $RC -eq 1 ]; } || { show_output; fail "with WAIT: exit $RC"; }
check_counts "$TMP/wait" "with WAIT 1:" || { show_output; fail "with WAIT: counts disagree"; }
grep -q 'promoted redis.1' "$TMP/wait.xml" || fail "no promotion in the timeline"
assert_junit_valid "$TMP/wait.xml"
assert_no_leftovers "$TMP/wait/redis-acked-writes/events.jsonl"

sed '/wait: {/d' scenarios/redis-acked-writes.yaml > "$TMP/nowait.yaml"
run_fl run "$TMP/nowait.yaml" --out "$TMP/nowait" --junit "$TMP/nowait.xml"
{ [ $RC -eq 0 ] || [ $RC -eq 1 ]; } || { show_output; fail "without WAIT: exit $RC"; }
check_counts "$TMP/nowait" "without WAIT:" || { show_output; fail "without WAIT: counts disagree"; }
assert_no_leftovers "$TMP/nowait/redis-acked-writes/events.jsonl"
pass "no_loss counts match an independent count of the final read"
