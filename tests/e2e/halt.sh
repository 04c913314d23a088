#!/usr/bin/env bash
# `faultline halt`: runs that share a state folder each listen on their own
# control socket. Halting one by its tag heals its fault (a replica frozen
# for 50 s) at once and stops it, marked halted, while the other goes on;
# halting all stops the rest; halting again, or when nothing runs, is fine.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

state="$TMP/state"
mkdir -p "$state"
sed 's/^name: long-pause/name: halt-a/' tests/data/halt/long-pause.yaml > "$TMP/a.yaml"
sed 's/^name: long-pause/name: halt-b/' tests/data/halt/long-pause.yaml > "$TMP/b.yaml"

pids=()
stop_runs() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done; wait || true; }
trap 'stop_runs; cleanup_tmp' EXIT
"$FL" run "$TMP/a.yaml" --state-dir "$state" --out "$TMP/a" --junit "$TMP/a.xml" >"$TMP/a.out" 2>&1 &
pids+=($!); pa=$!
"$FL" run "$TMP/b.yaml" --state-dir "$state" --out "$TMP/b" --junit "$TMP/b.xml" >"$TMP/b.out" 2>&1 &
pids+=($!); pb=$!

# Both paused: the fault's injection is in each history.
for run in a b; do
  ev="$TMP/$run/halt-$run/events.jsonl"
  for _ in $(seq 1 300); do
    grep -q '"type":"ok","source":"process.pause","f":"fault"' "$ev" 2>/dev/null && break
    sleep 0.1
  done
  grep -q '"type":"ok","source":"process.pause","f":"fault"' "$ev" || { cat "$TMP/$run.out"; fail "run $run: no fault injected"; }
done
pass "two runs, each with a replica frozen"

# The tag of run a: its journal says which scenario it runs.
ja=$(grep -l '"scenario halt-a' "$state"/*.journal) || fail "no journal for run a"
tag_a=$(basename "$ja" .journal)
[ -S "$state/$tag_a.sock" ] || { ls -la "$state"; fail "no control socket for $tag_a"; }

run_fl halt "$tag_a" --state-dir "$state"
[ $RC -eq 0 ] || { show_output; fail "halt $tag_a: exit $RC"; }
grep -q "^halting $tag_a" "$TMP/stdout" && grep -q "^stopped $tag_a" "$TMP/stdout" || { show_output; fail "halt did not say halting/stopped"; }
# halt returned once a's socket was gone: a healed and stopped.
set +e; wait $pa; rca=$?; set -e
[ $rca -eq 2 ] || { cat "$TMP/a.out"; fail "halted run exit $rca, expected 2"; }
grep -q 'halted by `faultline halt`' "$TMP/a.xml" || fail "a's JUnit is not marked halted"
assert_junit_valid "$TMP/a.xml"
grep -q '"source":"process.pause","f":"heal"' "$TMP/a/halt-a/events.jsonl" || fail "a's fault was not healed"
assert_no_leftovers "$TMP/a/halt-a/events.jsonl"
# 50 s of pause were cut short: the heal came within seconds of the halt.
heal_s=$(grep '"f":"heal"' "$TMP/a/halt-a/events.jsonl" | head -1 | sed -E 's/.*"time_us":([0-9]+).*/\1/')
[ "$heal_s" -lt 40000000 ] || fail "a's heal at ${heal_s}us: not halted early"
pass "halt by tag: a healed, stopped, exit 2, JUnit marked halted"

# b goes on, and says so.
kill -0 $pb || fail "halting a stopped b too"
run_fl halt --status --state-dir "$state"
[ $RC -eq 0 ] && grep -q "^running run-.* timeline" "$TMP/stdout" || { show_output; fail "status of b"; }
run_fl halt --state-dir "$state"
[ $RC -eq 0 ] || { show_output; fail "halt all: exit $RC"; }
set +e; wait $pb; rcb=$?; set -e
pids=()
[ $rcb -eq 2 ] || { cat "$TMP/b.out"; fail "b: exit $rcb, expected 2"; }
grep -q 'halted by `faultline halt`' "$TMP/b.xml" || fail "b's JUnit is not marked halted"
assert_no_leftovers "$TMP/b/halt-b/events.jsonl"
ls "$state"/*.sock >/dev/null 2>&1 && fail "a control socket was left: $(ls "$state"/*.sock)"
pass "halt all: b halted too, no socket left"

# Again, with nothing running: not an error. A stale socket (a run that
# died) is removed, not waited for.
run_fl halt --state-dir "$state"
[ $RC -eq 0 ] && grep -q 'no run to halt' "$TMP/stderr" || { show_output; fail "halt with nothing running: exit $RC"; }
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$state/run-1-1-0.sock"
run_fl halt --state-dir "$state"
[ $RC -eq 0 ] && [ ! -e "$state/run-1-1-0.sock" ] || { show_output; fail "stale socket"; }
run_fl halt run-9-9-9 --state-dir "$state"
[ $RC -eq 2 ] && grep -q 'no run run-9-9-9' "$TMP/stderr" || { show_output; fail "halt of an unknown tag: exit $RC"; }
pass "idempotent: nothing running, a stale socket, an unknown tag"
