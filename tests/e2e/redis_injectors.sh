#!/usr/bin/env bash
# Every Redis injector against real redis-server and redis-sentinel
# processes: each fault is applied (ok), recorded with what it did, healed,
# and no Redis process outlives the run.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

run_fl run tests/data/cli/redis-injectors.yaml --out "$TMP/out" --junit "$TMP/junit.xml" --seed 5
[ $RC -eq 0 ] || { show_output; fail "exit $RC, expected 0"; }
ev="$TMP/out/redis-injectors/events.jsonl"
python3 - "$ev" <<'PY' || { show_output; fail "fault records"; }
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
def done(f, src):
    return [o for o in ops if o['f'] == f and o['source'] == src and o['type'] != 'invoke']
for src in ['redis.kill', 'redis.restart', 'redis.failover', 'redis.pause', 'redis.disconnect']:
    recs = done('fault', src)
    assert recs and all(o['type'] == 'ok' for o in recs), (src, recs)
    print(src, '->', recs[0]['value'])
for src in ['redis.kill', 'redis.pause']:
    heals = done('heal', src)
    assert heals and all(o['type'] == 'ok' for o in heals), (src, heals)
fo = done('fault', 'redis.failover')[0]
assert fo['value'].startswith('promoted redis.1'), fo['value']
kills = [o for o in ops if o['f'] == 'instance' and 'killed by SIGKILL' in (o['value'] or '')]
assert len(kills) >= 2, kills
PY
grep -q 'promoted redis.1' "$TMP/junit.xml" || fail "the promotion is not in the JUnit system-out"
assert_junit_valid "$TMP/junit.xml"
assert_no_leftovers "$ev"
pass "redis injectors act, record and heal"

# Ctrl-C while a CLIENT PAUSE and a SIGSTOP are active: both are healed, every
# Redis process is stopped, exit 2.
set +e
"$FL" run tests/data/cli/redis-interrupt.yaml --out "$TMP/int" --junit "$TMP/int.xml" >"$TMP/stdout" 2>"$TMP/stderr" &
flpid=$!
set -e
ev="$TMP/int/redis-interrupt/events.jsonl"
for _ in $(seq 1 150); do
  n=$(grep -c '"f":"fault","key":"redis' "$ev" 2>/dev/null || true)
  [ "${n:-0}" -ge 2 ] && break
  sleep 0.1
done
[ "$(grep -c '"type":"ok","source":"redis.pause","f":"fault"' "$ev" 2>/dev/null || true)" -eq 2 ] \
  || { kill -9 $flpid; show_output; fail "the two pauses never happened"; }
kill -INT $flpid
set +e
wait $flpid
RC=$?
set -e
[ $RC -eq 2 ] || { show_output; fail "Ctrl-C: exit $RC, expected 2"; }
[ "$(grep -c '"type":"ok","source":"redis.pause","f":"heal"' "$ev")" -eq 2 ] || { show_output; fail "Ctrl-C did not heal both pauses"; }
assert_no_leftovers "$ev"
assert_junit_valid "$TMP/int.xml"
pass "Ctrl-C heals CLIENT PAUSE and SIGSTOP, stops every Redis process, exits 2"
