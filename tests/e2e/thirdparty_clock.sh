#!/usr/bin/env bash
# time.jump against unmodified Debian programs that report their clock in
# the HTTP Date header (examples/thirdparty/clock-jump.yaml): faultline
# reports each jump injected (libfaketime is mapped in every main process);
# the Date headers say what really happened. python3's http.server and an
# nginx that keeps libfaketime's variables for its workers are 1h ahead
# during the jump; a default nginx is not (it clears its workers'
# environment); after the final heal all three tell real time.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
command -v nginx >/dev/null || { echo "skip: nginx not installed"; exit 77; }
lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)
[ -n "$lib" ] || { echo "skip: libfaketime not installed"; exit 77; }

# nginx's workers run as nobody: the clock files must be reachable for
# them. faultline puts its clock folder (0711) under $TMPDIR, here the
# test's own temporary folder, which therefore gets search permission too
# (/tmp has it; docs/clocks.md).
chmod 0711 "$TMP"
export TMPDIR="$TMP"
out="$TMP/out/clock-jump"
ev="$out/events.jsonl"
set +e
"$FL" run examples/thirdparty/clock-jump.yaml --out "$TMP/out" --junit "$TMP/junit.xml" \
  >"$TMP/stdout" 2>"$TMP/stderr" &
flpid=$!
set -e
wait_for() {   # PATTERN: a line of the events file
  for _ in $(seq 1 200); do grep -q "$1" "$ev" 2>/dev/null && return 0; sleep 0.05; done
  kill -9 $flpid 2>/dev/null || true; show_output; fail "never saw $1"
}
# Date header of 127.0.0.1:PORT minus the real time, in seconds.
skew() {
  local d now
  d=$(curl -sI --max-time 2 "http://127.0.0.1:$1/" | tr -d '\r' | sed -n 's/^[Dd]ate: //p')
  now=$(date +%s)
  [ -n "$d" ] || { echo "no-date"; return; }
  echo $(( $(date -d "$d" +%s) - now ))
}
near() { [ "$1" != no-date ] && [ $(( $1 - $2 )) -lt 5 ] && [ $(( $2 - $1 )) -lt 5 ]; }

wait_for '"type":"ok","source":"time.jump","f":"fault","key":"nginx-env.0"'
wait_for '"type":"ok","source":"time.jump","f":"fault","key":"nginx.0"'
wait_for '"type":"ok","source":"time.jump","f":"fault","key":"py.0"'
py=$(cat "$out/py.port")
ng=$(grep -o 'listen 127.0.0.1:[0-9]*' "$out/nginx/nginx.conf" | cut -d: -f2)
nge=$(grep -o 'listen 127.0.0.1:[0-9]*' "$out/nginx-env/nginx.conf" | cut -d: -f2)
sleep 0.5   # one libfaketime re-read
s_py=$(skew "$py"); s_ng=$(skew "$ng"); s_nge=$(skew "$nge")
echo "during the jump: python3 ${s_py}s, nginx ${s_ng}s, nginx keeping env ${s_nge}s"
near "$s_py" 3600 || fail "python3 http.server did not jump: $s_py"
near "$s_nge" 3600 || fail "nginx with env directives did not jump: $s_nge"
near "$s_ng" 0 || fail "default nginx jumped after all ($s_ng): update docs/thirdparty.md"
wait_for '"type":"ok","source":"time.jump","f":"heal","key":"nginx-env.0"'
wait_for '"type":"ok","source":"time.jump","f":"heal","key":"py.0"'
sleep 0.5
s_py=$(skew "$py"); s_ng=$(skew "$ng"); s_nge=$(skew "$nge")
echo "after the heal: python3 ${s_py}s, nginx ${s_ng}s, nginx keeping env ${s_nge}s"
near "$s_py" 0 && near "$s_ng" 0 && near "$s_nge" 0 || fail "a clock stayed shifted after the heal"
set +e; wait $flpid; RC=$?; set -e
[ $RC -eq 0 ] || { show_output; fail "exit $RC, expected 0"; }
assert_no_leftovers "$ev"
pass "Date headers: python3 and nginx+env jumped 1h and came back; default nginx never moved"
