#!/usr/bin/env bash
# The live view and the operator: plain status lines off a terminal, a
# block redrawn in place on one (colours unless NO_COLOR), invariants
# already broken shown while the run goes on, --step answered through a
# pipe (n skips a fault, y injects it late, end of input stops the run),
# and notes typed during the run land in the history with their time.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
sc=tests/data/report/short-kill.yaml

# Off a terminal: a plain line every 5 s with the counts.
run_fl run $sc --out "$TMP/plain"
[ $RC -eq 0 ] || { show_output; fail "plain: exit $RC"; }
grep -Eq '^\[ *[0-9.]+s\] status: short-kill, timeline, [0-9]+% of 12\.0s \| submit +[0-9]+ ok +[0-9]+ fail +[0-9]+ info +[0-9.]+/s \| active' "$TMP/stderr" \
  || { cat "$TMP/stderr"; fail "no plain status line"; }
! grep -q $'\033' "$TMP/stderr" || fail "escape codes off a terminal"
pass "plain status lines off a terminal"

# What is already broken shows while the run goes on (transitions is an
# online checker: a backwards move stays one).
run_fl run scenarios/replica-state-split.yaml --var profile=buggy --out "$TMP/broken"
[ $RC -eq 1 ] || { show_output; fail "replica-state-split buggy: exit $RC"; }
grep -Eq 'status: replica-state-split, (timeline|settle).*\| broken +transitions\(submit\)' "$TMP/stderr" \
  || { grep status: "$TMP/stderr"; fail "the broken invariant was not shown during the run"; }
pass "an invariant broken during the run is shown live"

# On a terminal (a pty from script(1)): the block is redrawn in place.
live() { local out=$1; shift; script -qfec "$*" /dev/null >"$out" 2>&1 </dev/null || true; [ -s "$out" ] || fail "no output from the pty run"; }
live "$TMP/tty.out" "env TERM=xterm FAULTLINE_STATE_DIR=$FAULTLINE_STATE_DIR $FL run $sc --out $TMP/tty"
grep -q $'\033\\[[0-9]*A\033\\[J' "$TMP/tty.out" || fail "the block is not redrawn in place"
grep -q 'short-kill.*timeline.*\[#*\.*\]' "$TMP/tty.out" || fail "no progress bar"
grep -q $'\033\\[1m' "$TMP/tty.out" || fail "no colour on a terminal"
live "$TMP/tty2.out" "env TERM=xterm NO_COLOR=1 FAULTLINE_STATE_DIR=$FAULTLINE_STATE_DIR $FL run $sc --out $TMP/tty2"
grep -q $'\033\\[[0-9]*A\033\\[J' "$TMP/tty2.out" || fail "NO_COLOR: the block is not redrawn"
! grep -q $'\033\\[1m\\|\033\\[1;31m\\|\033\\[33m' "$TMP/tty2.out" || fail "colours despite NO_COLOR"
pass "a block redrawn in place on a terminal; NO_COLOR respected"

# --step through a pipe: skip the pause, inject the kill, then a note.
mkfifo "$TMP/in"
"$FL" run $sc --step --out "$TMP/step" <"$TMP/in" >"$TMP/step.out" 2>"$TMP/step.err" &
pid=$!
exec 7>"$TMP/in"
wait_for() {
  for _ in $(seq 1 300); do grep -q "$1" "$TMP/step.err" && return 0; sleep 0.1; done
  cat "$TMP/step.err"; fail "never saw: $1"
}
wait_for 'step: inject process.pause'
echo n >&7
wait_for 'step: inject process.kill'
sleep 1
echo y >&7
wait_for 'fault    process.kill'
echo "saw the kill land" >&7
wait_for 'note recorded: saw the kill land'
exec 7>&-
set +e; wait $pid; rc=$?; set -e
[ $rc -eq 0 ] || { cat "$TMP/step.err"; fail "--step run: exit $rc"; }
ev="$TMP/step/short-kill/events.jsonl"
grep -q '"source":"operator","f":"skip","key":"tests/data/report/short-kill.yaml:[0-9]*","value":"process.pause"' "$ev" || fail "the skip is not in the history"
! grep -q '"source":"process.pause","f":"fault"' "$ev" || fail "the skipped fault was injected"
kill_us=$(grep '"type":"ok","source":"process.kill","f":"fault"' "$ev" | sed -E 's/.*"time_us":([0-9]+).*/\1/')
[ "$kill_us" -gt 5000000 ] || fail "the kill was injected at ${kill_us}us, before it was confirmed"
grep -q '"source":"operator","f":"note","key":null,"value":"saw the kill land"' "$ev" || fail "the note is not in the history"
assert_no_leftovers "$ev"
pass "--step: n skipped, y injected late, a note recorded"

# --step with nothing to answer: the run stops at the first fault.
run_fl run $sc --step --out "$TMP/noin" </dev/null
[ $RC -eq 2 ] && grep -q 'halted.*no input to confirm with' "$TMP/noin/junit.xml" || { show_output; fail "--step without input: exit $RC"; }
! grep -q '"f":"fault"' "$TMP/noin/short-kill/events.jsonl" || fail "a fault was injected without confirmation"
pass "--step without input: no fault, the run stops"
