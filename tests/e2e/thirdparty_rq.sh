#!/usr/bin/env bash
# A real job queue against faultline's pod kill: RQ (Debian python3-rq)
# runs each job in a "work horse" it forks into a session of its own
# (setsid), out of reach of a kill of the worker's process group. The
# scenario examples/thirdparty/rq-worker-kill.yaml kills the worker's pod
# while the horse is mid-job.
#
# Both directions, so that the test cannot pass vacuously:
#   1. without the fault the same job finishes (probe sees "finished",
#      the job's own completion file is written);
#   2. with faultline's pod kill it never finishes, RQ keeps it "started",
#      faultline reports recovers(status) violated (exit 1), and nothing of
#      the pod is left running - with cgroups and with the subreaper.
# Run with a faultline whose kill is a process-group kill (before commit
# 096e000), part 2 fails: the horse survives and the job finishes.
#
# Needs redis-server, redis-cli and /usr/bin/python3 with rq (Debian:
# redis-server python3-rq). Without python3-rq it exits 77 (skipped).
source "$(dirname "$0")/lib.sh"
cd "$SRC"

PY=/usr/bin/python3
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null \
   || ! command -v rq >/dev/null || ! "$PY" -c 'import rq' 2>/dev/null; then
  echo "skip: needs redis-server, redis-cli and python3-rq (apt-get install python3-rq)" >&2
  exit 77
fi
export PYTHONDONTWRITEBYTECODE=1

SCENARIO=examples/thirdparty/rq-worker-kill.yaml
RQDIR=$SRC/examples/thirdparty/rq
JOB_SECONDS=4

# Whatever happens, no work horse of ours outlives the test: it is the one
# process a broken pod kill would leave behind (it ends by itself after
# JOB_SECONDS, but not before the next test starts).
horses=""
cleanup() {
  local pid
  for pid in $horses; do
    grep -qs "rq" "/proc/$pid/cmdline" && kill -KILL "$pid" 2>/dev/null || true
  done
  cleanup_tmp
}
trap cleanup EXIT

alive() { [ -e "/proc/$1" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; }

# The status values the probe recorded, in order, one per line.
statuses() { grep '"source":"status","f":"probe"' "$1" | grep '"type":"ok"' \
               | grep -o '"value":"[a-z]*"' | cut -d'"' -f4; }

# The work horse as it described itself: pid, pgid, sid, ppid.
horse_field() { grep -o "\b$2=[0-9]*" "$1/job-1.started" | head -1 | cut -d= -f2; }

# The same scenario without its fault timeline.
sed '/^faults:/,/^invariants:/{/^invariants:/!d}' "$SCENARIO" > "$TMP/rq-no-fault.yaml"
grep -q 'process.kill' "$SCENARIO" || fail "$SCENARIO has no process.kill"
! grep -q 'process.kill' "$TMP/rq-no-fault.yaml" || fail "the no-fault copy still has the kill"

# 1. No fault: the job runs to its end.
run_fl run "$TMP/rq-no-fault.yaml" --var rqdir="$RQDIR" --out "$TMP/no-fault"
d="$TMP/no-fault/rq-worker-kill"
[ -s "$d/job-1.started" ] && horses="$horses $(horse_field "$d" pid)"
[ $RC -eq 0 ] || { show_output; fail "no fault: exit $RC, expected 0"; }
[ -s "$d/job-1.done" ] || fail "no fault: the job never wrote job-1.done"
statuses "$d/events.jsonl" | grep -qx finished || fail "no fault: the probe never saw 'finished'"
assert_no_leftovers "$d/events.jsonl"
pass "no fault: the job finishes (RQ says finished, job-1.done written)"

# The premise of part 2: RQ's horse is in a session and process group of
# its own, so a kill of the worker's process group would not reach it.
h_pid=$(horse_field "$d" pid); h_pgid=$(horse_field "$d" pgid)
h_sid=$(horse_field "$d" sid); h_ppid=$(horse_field "$d" ppid)
[ "$h_sid" = "$h_pid" ] && [ "$h_pgid" = "$h_pid" ] && [ "$h_pgid" != "$h_ppid" ] \
  || fail "premise: RQ's horse ($(cat "$d/job-1.started")) is not in a session of its own"
pass "premise: the horse (pid $h_pid) runs in its own session, away from the worker's group $h_ppid"

# 2. Pod kill mid-job.
# Both containments, also when RQ rewrites its process title (with
# python3-setproctitle installed), which erases /proc/PID/environ and so
# the subreaper mode's marker: there the instance's mini-init still has the
# horse below it in the process tree.
modes="cgroup subreaper"
for mode in $modes; do
  if [ $mode = subreaper ]; then export FAULTLINE_CONTAINMENT=subreaper; else unset FAULTLINE_CONTAINMENT; fi
  run_fl run "$SCENARIO" --var rqdir="$RQDIR" --out "$TMP/$mode"
  d="$TMP/$mode/rq-worker-kill"
  ev="$d/events.jsonl"
  [ -s "$d/job-1.started" ] || { show_output; fail "$mode: the job never started"; }
  horse=$(horse_field "$d" pid)
  horses="$horses $horse"
  grep -q '"type":"ok","source":"process.kill","f":"fault"' "$ev" \
    || { show_output; fail "$mode: no process.kill in the history"; }
  # The run lasts longer after the kill (7s) than the whole job (4s).
  [ ! -e "$d/job-1.done" ] || fail "$mode: the job finished after its pod was killed ($(cat "$d/job-1.done"))"
  ! statuses "$ev" | grep -qx finished || fail "$mode: RQ reported the job finished after the pod kill"
  [ "$(statuses "$ev" | tail -n 1)" = started ] \
    || fail "$mode: the last status is '$(statuses "$ev" | tail -n 1)', expected 'started'"
  ! alive "$horse" || { ps -o pid,ppid,pgid,sid,stat,cmd -p "$horse" >&2; fail "$mode: the horse $horse is alive"; }
  [ $RC -eq 1 ] || { show_output; fail "$mode: exit $RC, expected 1 (recovers(status) violated)"; }
  grep -q 'FAIL recovers(status)' "$TMP/stdout" && grep -q 'no healthy sample after it (last at [0-9.]*s: started)' "$TMP/stdout" \
    || { show_output; fail "$mode: the report does not say the job stayed started"; }
  grep -q "contained by $( [ $mode = cgroup ] && echo 'cgroup v2' || echo subreaper)" "$TMP/stderr" \
    || { show_output; fail "$mode: the run header does not name the containment"; }
  assert_no_leftovers "$ev"
  pass "$mode: the pod kill takes the horse mid-job; RQ keeps job-1 'started'; exit 1 names it"
done
