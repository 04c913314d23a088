#!/usr/bin/env bash
# nginx from Debian (a master and two workers) under faultline:
#   1. process.pause freezes the whole pod - master and workers - so every
#      request times out, and the heal resumes them (cgroup freeze, and
#      SIGSTOP with the subreaper);
#   2. with nginx's default `daemon on` the launcher double-forks and
#      exits: faultline kills what it left in the pod, `restart: always`
#      makes it flap, the run ends "not ready" (exit 2) and no nginx is
#      left running; the same nginx with `daemon off` is ready at once.
# Needs nginx (Debian: nginx) and curl. Without nginx it exits 77 (skipped).
source "$(dirname "$0")/lib.sh"
cd "$SRC"

if ! command -v nginx >/dev/null || ! command -v curl >/dev/null; then
  echo "skip: needs nginx and curl (apt-get install nginx curl)" >&2
  exit 77
fi
NGDIR=$SRC/examples/thirdparty/nginx

# Every nginx master of this test has its prefix under $TMP, a unique
# folder; its workers are its children. On any exit, a faultline still
# running in the background is stopped first (it heals and stops its
# pods), then whatever nginx is left (an escaped daemon) is ended by pid.
ours() {
  local f pid masters=""
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    { tr '\0' ' ' < "$f"; } 2>/dev/null | grep -q "^nginx: master process nginx -p $TMP/" \
      && masters="$masters $pid"
  done
  for pid in $masters; do echo "$pid" $(ps -o pid= --ppid "$pid"); done
  return 0
}
flpid=""
cleanup() {
  local pid
  if [ -n "$flpid" ] && kill -0 "$flpid" 2>/dev/null; then
    kill -TERM "$flpid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$flpid" 2>/dev/null || break; sleep 0.1; done
  fi
  for pid in $(ours); do kill -KILL "$pid" 2>/dev/null || true; done
  cleanup_tmp
}
trap cleanup EXIT

alive() { [ -e "/proc/$1" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; }

# Frozen: its cgroup says so (cgroup mode) or it is stopped (subreaper).
frozen() {
  local pid=$1 mode=$2 cg mnt
  if [ "$mode" = cgroup ]; then
    cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup" 2>/dev/null)
    mnt=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
    grep -qs '^frozen 1' "$mnt$cg/cgroup.events"
  else
    [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" = T ]
  fi
}

# 1. Pause.
for mode in cgroup subreaper; do
  if [ $mode = subreaper ]; then export FAULTLINE_CONTAINMENT=subreaper; else unset FAULTLINE_CONTAINMENT; fi
  out="$TMP/pause-$mode"
  d="$out/nginx-pause"
  "$FL" run examples/thirdparty/nginx-pause.yaml --var ngdir="$NGDIR" --out "$out" \
    >"$TMP/stdout" 2>"$TMP/stderr" &
  flpid=$!
  for _ in $(seq 1 100); do
    grep -qs '"type":"ok","source":"process.pause","f":"fault"' "$d/events.jsonl" && break
    sleep 0.1
  done
  grep -qs '"type":"ok","source":"process.pause","f":"fault"' "$d/events.jsonl" \
    || { show_output; fail "$mode: the pause never happened"; }
  master=$(cat "$d/nginx/nginx.pid")
  pids=$(echo "$master" $(ps -o pid= --ppid "$master"))
  port=$(grep -o 'listen 127.0.0.1:[0-9]*' "$d/nginx/nginx.conf" | cut -d: -f2)
  set +e
  curl -s -o /dev/null --max-time 0.5 "http://127.0.0.1:$port/"
  crc=$?
  set -e
  for pid in $pids; do
    frozen "$pid" $mode || { ps -o pid,stat,cmd -p "${pids// /,}" >&2; fail "$mode: nginx pid $pid is not frozen"; }
  done
  set +e
  wait $flpid
  RC=$?
  set -e
  flpid=""
  [ "$(echo $pids | wc -w)" -eq 3 ] || fail "$mode: expected a master and 2 workers, found: $pids"
  [ $crc -eq 28 ] || fail "$mode: a request during the pause did not time out (curl exit $crc)"
  [ $RC -eq 0 ] || { show_output; fail "$mode: nginx-pause exit $RC, expected 0"; }
  # Between the pause and its heal no probe sample was ok; some timed out.
  during=$(sed -n '/"source":"process.pause","f":"fault"/,/"source":"process.pause","f":"heal"/p' \
             "$d/events.jsonl" | grep '"source":"http","f":"probe"' | grep -v '"invoke"' || true)
  [ "$(echo "$during" | grep -c '"type":"info"')" -ge 3 ] || fail "$mode: fewer than 3 timed-out samples during the pause"
  ! echo "$during" | grep -q '"type":"ok"' || fail "$mode: nginx answered during the pause"
  grep -q 'ok   recovers(http)' "$TMP/stdout" || { show_output; fail "$mode: nginx did not recover"; }
  for pid in $pids; do alive "$pid" && fail "$mode: nginx pid $pid left running"; done
  assert_no_leftovers "$d/events.jsonl"
  pass "$mode: pause stops nginx's master and both workers (requests time out); the heal resumes them"
done
unset FAULTLINE_CONTAINMENT

# 2. daemon on, with both containments. (nginx rewrites its process title
#    over its environment, so the subreaper mode cannot rely on its marker:
#    the daemonized master is found below the instance's mini-init.)
for mode in cgroup subreaper; do
  if [ $mode = subreaper ]; then export FAULTLINE_CONTAINMENT=subreaper; else unset FAULTLINE_CONTAINMENT; fi
  run_fl run examples/thirdparty/nginx-daemon.yaml --var ngdir="$NGDIR" --out "$TMP/daemon-$mode"
  d="$TMP/daemon-$mode/nginx-daemon"
  ev="$d/events.jsonl"
  [ $RC -eq 2 ] || { show_output; fail "daemon: exit $RC, expected 2 (never ready)"; }
  grep -q "service 'daemon' not ready: daemon.0 kept exiting" "$TMP/stdout" \
    || { show_output; fail "daemon: the report does not say the daemon kept exiting"; }
  grep -q '"key":"foreground.0","value":"ready after' "$ev" || fail "daemon: nginx with daemon off was not ready"
  exits=$(grep -c '"key":"daemon.0","value":"exited with status 0"' "$ev" || true)
  [ "$exits" -ge 3 ] || fail "daemon: the launcher exited $exits times, expected it to flap (>= 3)"
  # Who kills what the launcher left: faultline (cgroup), or the
  # instance's mini-init, which says so in the instance's log (subreaper).
  if [ $mode = cgroup ]; then
    grep -q '"key":"daemon.0","value":"killing [1-9][0-9]* process' "$ev" \
      || fail "daemon: no record of the daemonized processes killed with the pod"
  else
    grep -q 'faultline init: the command exited; killing [1-9][0-9]* process' "$d/daemon.0.log" \
      || fail "$mode: daemon: the mini-init did not kill what the launcher left"
  fi
  left=$(ours)
  [ -z "$left" ] || { ps -o pid,ppid,stat,cmd -p $(echo $left | tr ' ' ,) >&2; fail "daemon: nginx left running:" $left; }
  assert_no_leftovers "$ev"
  pass "$mode: daemon: daemon on flaps ($exits exits, what it forked killed each time), ends not ready, leaves nothing; daemon off is ready"
done
unset FAULTLINE_CONTAINMENT
