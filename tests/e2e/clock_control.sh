#!/usr/bin/env bash
# Controlled clocks (libfaketime) end to end, on jobsvc's own /api/time:
#  - time.skew moves the wall clock back 1h for its duration only, and
#    time.strobe flips it between real and +1 day; with controlled-wall the
#    monotonic clock never moves;
#  - no faked clock outlives a run: after Ctrl-C, after a SIGKILLed run (the
#    guardian heals it) and after one healed by `faultline recover` (no
#    guardian), the clock file and its folder are gone, the state folder is
#    still 0700, and `date` run
#    under the same libfaketime environment tells real time (it told +1 day
#    while the run was alive);
#  - a service whose clock cannot be controlled is refused with the reason:
#    a statically linked program, a FAKETIME or FAKETIME_* variable in the
#    environment.
source "$(dirname "$0")/lib.sh"
# The runs put their clock folders under $TMPDIR: this test's own.
export TMPDIR="$TMP"
cd "$SRC"
lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)
[ -n "$lib" ] || { echo "skip: libfaketime not installed"; exit 77; }

# ---- skew and strobe ----------------------------------------------------------
run_fl run tests/data/clock/skew-strobe.yaml --out "$TMP/ss"
[ $RC -eq 0 ] || { show_output; fail "skew-strobe: exit $RC"; }
python3 - "$TMP/ss/skew-strobe/events.jsonl" <<'PY' || fail "skew-strobe: clocks not as faulted"
import json, sys
ops = [json.loads(l) for l in open(sys.argv[1])]
def first(src, f, t):
    return next(o['time_us'] for o in ops if o['source'] == src and o['f'] == f and o['type'] == t)
# A fault's window: from its injection's completion to its heal's invoke.
# (The clock file is rewritten between the invoke and the completion of
# each: a sample answered there may see either clock.)
def span(src):
    return first(src, 'fault', 'ok'), first(src, 'heal', 'invoke')
# A sample was answered between its invoke and its completion: judge it by
# both, so a slow answer on a busy machine is never counted on the wrong
# side of a fault (100 ms for libfaketime to re-read its file).
def offs(probe, lo, hi):
    out, inv = [], {}
    for o in ops:
        if o['source'] != probe or o['f'] != 'probe':
            continue
        k = (o['process'], o.get('key'))
        if o['type'] == 'invoke':
            inv[k] = o['time_us']
        elif o['type'] == 'ok' and k in inv and inv[k] > lo + 100000 and o['time_us'] < hi:
            out.append(int(o['value']) - o['time_us'] // 1000)
    return out
sk, sh = span('time.skew'); st, sth = span('time.strobe')
sk_inv = first('time.skew', 'fault', 'invoke'); sth_ok = first('time.strobe', 'heal', 'ok')
base = offs('wall', -1 << 62, sk_inv)
assert base, 'no sample before the skew'
b = base[0]
near = lambda d, want: abs(d - b - want) < 2000
assert all(near(d, 0) for d in base), base
skew = offs('wall', sk, sh)
assert skew and all(near(d, -3600000) for d in skew), skew
strobe = offs('wall', st, sth)
assert any(near(d, 86400000) for d in strobe) and any(near(d, 0) for d in strobe), strobe
assert all(near(d, 0) or near(d, 86400000) for d in strobe), strobe
after = offs('wall', sth_ok, 1 << 62)
assert after and all(near(d, 0) for d in after), after
mono = offs('mono', -1 << 62, 1 << 62)
assert mono and max(mono) - min(mono) < 2000, (min(mono), max(mono))
print('skew %d samples at -1h, strobe %d samples flipping, %d real after, monotonic steady'
      % (len(skew), len(strobe), len(after)))
PY
pass "time.skew and time.strobe move the wall clock only while active"

# ---- Ctrl-C, then SIGKILL + recover ------------------------------------------
under_hook_date() {   # seconds as a process under the same libfaketime setup sees them
  LD_PRELOAD=$lib FAKETIME_TIMESTAMP_FILE=$1 FAKETIME_NO_CACHE=1 FAKETIME_DISABLE_SHM=1 date +%s
}
# Starts long-skew in the background; sets FLPID and CLOCKFILE once the skew is on.
start_long_skew() {
  set +e
  "$FL" run tests/data/clock/long-skew.yaml --out "$TMP/$1" >"$TMP/stdout" 2>"$TMP/stderr" &
  FLPID=$!
  set -e
  CLOCKFILE=""
  for _ in $(seq 1 200); do
    CLOCKFILE=$(ls "$TMPDIR"/faultline-*.clocks/api.0.clock 2>/dev/null | head -1 || true)
    [ -n "$CLOCKFILE" ] && grep -q '^+86400' "$CLOCKFILE" 2>/dev/null && return 0
    sleep 0.1
  done
  kill -9 $FLPID || true
  show_output
  fail "$1: the skew never reached the clock file ($CLOCKFILE)"
}
# A killed run's processes are killed by the guardian or recover, then
# reaped by whoever adopted them: give that a moment (bounded).
wait_gone() {
  local pids
  pids=$(grep -o '"started pid [0-9]*' "$1" | grep -o '[0-9]*$' | sort -u || true)
  for _ in $(seq 1 100); do
    local alive=""
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  assert_no_leftovers "$1"
}
assert_real_again() {
  local now faked
  now=$(date +%s)
  faked=$(under_hook_date "$CLOCKFILE")
  [ $(( faked - now )) -lt 5 ] && [ $(( now - faked )) -lt 5 ] \
    || fail "$1: a process under the hook still sees $faked, real is $now"
  [ ! -e "$CLOCKFILE" ] || fail "$1: the clock file outlived the run"
  [ ! -e "$(dirname "$CLOCKFILE")" ] || fail "$1: the clock folder outlived the run"
  [ "$(stat -c %a "$FAULTLINE_STATE_DIR")" = 700 ] \
    || fail "$1: the state folder is $(stat -c %a "$FAULTLINE_STATE_DIR"), not 700"
}

start_long_skew ctrlc
now=$(date +%s); faked=$(under_hook_date "$CLOCKFILE")
[ $(( faked - now )) -gt 86000 ] || fail "during the skew a process under the hook sees $faked, real $now"
kill -INT $FLPID
set +e; wait $FLPID; RC=$?; set -e
[ $RC -eq 2 ] || { show_output; fail "Ctrl-C: exit $RC, expected 2"; }
assert_real_again "Ctrl-C"
assert_no_leftovers "$TMP/ctrlc/long-skew/events.jsonl"
grep -q '"source":"time.skew","f":"heal".*"type":"ok"\|"type":"ok","source":"time.skew","f":"heal"' \
  "$TMP/ctrlc/long-skew/events.jsonl" || fail "Ctrl-C: the skew was not healed"
! ls "$FAULTLINE_STATE_DIR"/*.journal >/dev/null 2>&1 || fail "Ctrl-C: a journal was left behind"
pass "Ctrl-C during a skew: healed, clock real again, clock file gone"

start_long_skew killed
kill -KILL $FLPID
set +e; wait $FLPID; set -e
# the guardian heals after a faultline that died, then removes the journal
for _ in $(seq 1 150); do ls "$FAULTLINE_STATE_DIR"/*.journal >/dev/null 2>&1 || break; sleep 0.1; done
! ls "$FAULTLINE_STATE_DIR"/*.journal >/dev/null 2>&1 || fail "SIGKILL: the guardian left the journal"
assert_real_again "SIGKILL (guardian)"
wait_gone "$TMP/killed/long-skew/events.jsonl"
pass "SIGKILLed run: the guardian resets the clock and removes the file"

export FAULTLINE_GUARD=0
start_long_skew killed2
kill -KILL $FLPID
set +e; wait $FLPID; set -e
grep -q '^+86400' "$CLOCKFILE" || fail "SIGKILL without guardian: the clock file should still hold the skew"
run_fl recover
[ $RC -eq 0 ] || { show_output; fail "recover: exit $RC"; }
grep -q 'reset to real time' "$TMP/stdout" "$TMP/stderr" || { show_output; fail "recover did not say it reset the clock"; }
assert_real_again "SIGKILL + recover"
wait_gone "$TMP/killed2/long-skew/events.jsonl"
unset FAULTLINE_GUARD
pass "SIGKILLed run without guardian: recover resets the clock and removes the file"

# ---- refusals ----------------------------------------------------------------------
if command -v cc >/dev/null && printf 'int main(void){for(;;){}}\n' >"$TMP/spin.c" \
   && cc -static -o "$TMP/spin" "$TMP/spin.c" 2>/dev/null; then
  run_fl run tests/data/clock/static.yaml --var static="$TMP/spin" --out "$TMP/static"
  [ $RC -eq 2 ] || { show_output; fail "static binary: exit $RC, expected 2"; }
  grep -q 'has no libfaketime mapped.*statically linked' "$TMP/stdout" "$TMP/stderr" \
    || { show_output; fail "static binary: no clear reason"; }
  pass "a static binary is refused with the reason"
else
  echo "note: no static C toolchain, static binary case skipped"
fi
set +e
FAKETIME=+1h "$FL" run tests/data/clock/long-skew.yaml --out "$TMP/fk" >"$TMP/stdout" 2>"$TMP/stderr"
RC=$?
set -e
[ $RC -eq 2 ] || { show_output; fail "FAKETIME set: exit $RC, expected 2"; }
grep -q 'FAKETIME is set' "$TMP/stdout" "$TMP/stderr" || { show_output; fail "FAKETIME set: no clear reason"; }
set +e
FAKETIME_NO_CACHE=0 "$FL" run tests/data/clock/long-skew.yaml --out "$TMP/fk2" >"$TMP/stdout" 2>"$TMP/stderr"
RC=$?
set -e
[ $RC -eq 2 ] || { show_output; fail "FAKETIME_NO_CACHE set: exit $RC, expected 2"; }
grep -q 'FAKETIME_NO_CACHE is set' "$TMP/stdout" "$TMP/stderr" \
  || { show_output; fail "FAKETIME_NO_CACHE set: no clear reason"; }
pass "a FAKETIME or FAKETIME_* variable in the environment is refused"
run_fl run tests/data/clock/redis.yaml --out "$TMP/redis"
[ $RC -eq 2 ] || { show_output; fail "redis-server with a controlled clock: exit $RC, expected 2"; }
grep -q 'redis.yaml:7:5: .*redis-server hangs at start under libfaketime' "$TMP/stdout" "$TMP/stderr" \
  || { show_output; fail "redis-server: no clear reason with its position"; }
pass "redis-server with a controlled clock is refused with the reason"
