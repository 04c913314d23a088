#!/usr/bin/env bash
# An instance is a pod. A kill takes every process of it, also the ones
# that left its process group (a job run with setsid, a double-forked
# daemon); and when faultline itself is SIGKILLed mid-run with the pod
# frozen, `faultline recover` - or the next `faultline run` - leaves no
# process, no frozen cgroup and no cgroup folder behind. Both with cgroups
# and with the subreaper fallback.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
# The guardian would heal a crash at once: parts 2 and 3 need the crash's
# leftovers to show that recover and the next run heal them. Part 4 turns
# it back on.
export FAULTLINE_GUARD=0

pids_of() {   # the pids the pod's processes wrote into the run's folder
  local dir=$1 f
  for f in main job daemon; do [ -s "$dir/$f.pid" ] && cat "$dir/$f.pid"; done
}

# A frozen process: its cgroup says so, or (no cgroup) it is stopped.
frozen() {
  local pid=$1 cg mnt
  cg=$(sed -n 's/^0:://p' /proc/$pid/cgroup 2>/dev/null) || return 1
  mnt=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
  if [ -n "$mnt" ] && [ "$cg" != "/" ] && [ -f "$mnt$cg/cgroup.events" ]; then
    grep -q '^frozen 1' "$mnt$cg/cgroup.events"
  else
    [ "$(sed 's/.*) //' /proc/$pid/stat 2>/dev/null | cut -d' ' -f1)" = T ]
  fi
}

alive() { [ -e /proc/$1 ] && [ "$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -d' ' -f1)" != Z ]; }

# cgroup folders of the runs that used state dir $1 (from their tags).
run_cgroups() {
  local mnt
  mnt=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
  [ -n "$mnt" ] || return 0
  find "$mnt" -maxdepth 4 -type d -path "*/faultline/$2*" 2>/dev/null || true
}

for mode in cgroup subreaper; do
  if [ $mode = subreaper ]; then export FAULTLINE_CONTAINMENT=subreaper; else unset FAULTLINE_CONTAINMENT; fi
  out="$TMP/$mode"

  # 1. A pod kill: neither the setsid job nor the daemon finishes its work.
  run_fl run tests/data/cli/pod-kill.yaml --out "$out" --state-dir "$TMP/state-$mode"
  [ $RC -eq 0 ] || { show_output; fail "$mode: pod-kill exit $RC"; }
  grep -q "contained by $( [ $mode = cgroup ] && echo 'cgroup v2' || echo subreaper)" "$TMP/stderr" \
    || { show_output; fail "$mode: the run header does not name the containment"; }
  d="$out/pod-kill"
  [ -s "$d/job.pid" ] && [ -s "$d/daemon.pid" ] || fail "$mode: the pod never started its job and daemon"
  sleep 2.5   # longer than the job would have needed
  [ ! -e "$d/job.done" ] || fail "$mode: the setsid job survived the pod kill and finished"
  [ ! -e "$d/daemon.done" ] || fail "$mode: the double-forked daemon survived the pod kill"
  for pid in $(pids_of "$d"); do alive $pid && fail "$mode: pid $pid of the pod is alive"; done
  assert_no_leftovers "$d/events.jsonl"
  pass "$mode: a pod kill takes the setsid job and the double-forked daemon"

  # 2. faultline SIGKILLed while the pod is frozen.
  crash() {
    rm -rf "$out/pod-crash"   # no stale events or pid files from an earlier crash
    "$FL" run tests/data/cli/pod-crash.yaml --out "$out" --state-dir "$TMP/state-$mode" \
      >"$TMP/crash.out" 2>"$TMP/crash.err" &
    flpid=$!
    local ev="$out/pod-crash/events.jsonl"
    for _ in $(seq 1 100); do
      grep -q '"type":"ok","source":"process.pause","f":"fault"' "$ev" 2>/dev/null && break
      sleep 0.1
    done
    grep -q '"type":"ok","source":"process.pause","f":"fault"' "$ev" \
      || { kill -9 $flpid; cat "$TMP/crash.err" >&2; fail "$mode: the pause never happened"; }
    kill -9 $flpid
    wait $flpid 2>/dev/null || true
    sleep 0.3
    crashed=$(pids_of "$out/pod-crash")
    [ "$(echo $crashed | wc -w)" -eq 3 ] || fail "$mode: expected 3 pids of the pod, got '$crashed'"
  }
  crash
  if [ $mode = cgroup ]; then
    # The escapees outlive faultline, frozen: only the journal can heal them.
    left=0
    for pid in $crashed; do alive $pid && { left=$((left+1)); frozen $pid || fail "$mode: pid $pid not frozen"; }; done
    [ $left -ge 2 ] || fail "$mode: expected the setsid job and the daemon to outlive faultline ($left alive)"
  else
    # The instance's mini-init gets faultline's death as a signal and
    # takes the whole pod down itself, escapees included.
    for _ in $(seq 1 50); do
      left=""; for pid in $crashed; do alive $pid && left="$left $pid"; done
      [ -z "$left" ] && break; sleep 0.1
    done
    [ -z "$left" ] || fail "$mode: pids$left outlived faultline and its mini-init"
  fi
  ls "$TMP/state-$mode"/*.journal >/dev/null 2>&1 || fail "$mode: no journal left by the crashed run"
  tag=$(basename "$(ls "$TMP/state-$mode"/*.journal | head -1)" .journal)
  [ $mode = subreaper ] || [ -n "$(run_cgroups "$TMP/state-$mode" "$tag")" ] || fail "$mode: no cgroup folder for $tag"

  run_fl recover --state-dir "$TMP/state-$mode"
  [ $RC -eq 0 ] || { show_output; fail "$mode: recover exit $RC"; }
  grep -q "ended without healing" "$TMP/stderr" || { show_output; fail "$mode: recover did not say what it healed"; }
  [ $mode = subreaper ] || grep -q "thawed worker.0" "$TMP/stderr" || { show_output; fail "$mode: recover did not thaw the pod"; }
  for pid in $crashed; do alive $pid && fail "$mode: pid $pid survived recover"; done
  [ -z "$(run_cgroups "$TMP/state-$mode" "$tag")" ] || fail "$mode: cgroup folder of $tag left: $(run_cgroups x "$tag")"
  ! ls "$TMP/state-$mode"/*.journal >/dev/null 2>&1 || fail "$mode: the journal is still there"
  run_fl recover --state-dir "$TMP/state-$mode"
  [ $RC -eq 0 ] && grep -q "nothing left to heal" "$TMP/stderr" || { show_output; fail "$mode: second recover"; }
  pass "$mode: after kill -9 of faultline, recover kills the frozen escapees, removes the cgroups; idempotent"

  # 3. The next run heals a crashed one before it starts, and says so.
  crash
  tag=$(basename "$(ls "$TMP/state-$mode"/*.journal | head -1)" .journal)
  run_fl run tests/data/cli/pod-kill.yaml --out "$out" --state-dir "$TMP/state-$mode"
  [ $RC -eq 0 ] || { show_output; fail "$mode: the run after a crash: exit $RC"; }
  grep -q "ended without healing" "$TMP/stderr" && grep -q "before this run: healed" "$TMP/stderr" \
    || { show_output; fail "$mode: the next run did not say it healed the crashed one"; }
  for pid in $crashed; do alive $pid && fail "$mode: pid $pid survived the next run"; done
  [ -z "$(run_cgroups "$TMP/state-$mode" "$tag")" ] || fail "$mode: cgroup folder of $tag left"
  ! ls "$TMP/state-$mode"/*.journal >/dev/null 2>&1 || fail "$mode: a journal is left after a clean run"
  pass "$mode: the next run heals what a crashed run left, then runs"
done

# 4. With the guardian (the default), kill -9 of faultline alone leaves
#    nothing: the guardian notices and heals at once.
unset FAULTLINE_CONTAINMENT FAULTLINE_GUARD
out="$TMP/guarded"
mode=guarded
crash
for _ in $(seq 1 100); do
  left=""
  for pid in $crashed; do alive $pid && left="$left $pid"; done
  [ -z "$left" ] && ! ls "$TMP/state-$mode"/*.journal >/dev/null 2>&1 && break
  sleep 0.1
done
[ -z "$left" ] || fail "guardian: pids$left survived kill -9 of faultline"
! ls "$TMP/state-$mode"/*.journal >/dev/null 2>&1 || fail "guardian: the journal is still there"
grep -q "guard: faultline ended without healing; healed" "$TMP/crash.err" \
  || { cat "$TMP/crash.err" >&2; fail "the guardian did not say what it healed"; }
pass "guardian: kill -9 of faultline alone leaves no process, cgroup or journal"
