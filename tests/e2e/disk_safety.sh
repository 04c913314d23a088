#!/usr/bin/env bash
# Disk faults are undone whatever happens to faultline: SIGKILLed mid-fault,
# `faultline recover` removes the fill file, unmounts the volume and
# disarms the I/O error library (each is checked to be there first, so the
# test can fail), and so does the guardian on its own; interrupted with Ctrl-C (SIGINT) mid-fault, the run heals
# all three itself. Volumes need root: skipped (77) without it.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
[ "$(id -u)" = 0 ] || { echo "skip: volumes need root"; exit 77; }

cat >"$TMP/s.yaml" <<'YAML'
name: disk-safety
duration: 60s
settle: 0s
services:
  loader:
    command: [loader, --port, "${port}", --spool, "${volume.spool}", --profile, fixed]
    volumes: { spool: { path: "${out}/spool", size: 2m } }
    ready: { http: "http://127.0.0.1:${port}/healthz", timeout: 10s }
faults:
  - at: 500ms
    for: 50s
    disk.full: { service: loader, volume: spool }
  - at: 500ms
    for: 50s
    disk.errors: { service: loader, volume: spool, errno: EIO, calls: [all] }
invariants: []
YAML

# armed FILE: 1 when the control block in FILE is armed (offset 12, u32).
armed() { python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(16); print(struct.unpack("<I", d[12:16])[0])' "$1"; }

# Start a run in the background and wait until both faults are in place.
start_run() {
  local out=$1 guard=${2:-1}
  FAULTLINE_GUARD=$guard "$FL" run "$TMP/s.yaml" --out "$out" >"$TMP/stdout" 2>"$TMP/stderr" &
  FLPID=$!
  for _ in $(seq 1 200); do
    CTL=$(ls "$FAULTLINE_STATE_DIR"/*.ioerr-* 2>/dev/null | head -1 || true)
    FILL=$(find "$out" -name '.faultline-fill-*' 2>/dev/null | head -1 || true)
    if [ -n "$CTL" ] && [ -n "$FILL" ] && [ "$(armed "$CTL")" = 1 ]; then return 0; fi
    sleep 0.1
  done
  show_output; kill -9 "$FLPID" 2>/dev/null || true; fail "the faults were not injected in 20s"
}

assert_clean() {
  local what=$1
  if grep -F "$TMP" /proc/self/mountinfo; then fail "$what: a volume is still mounted"; fi
  [ ! -e "$FILL" ] || fail "$what: fill file $FILL is left"
  [ ! -e "$CTL" ] || fail "$what: I/O error control file $CTL is left"
  pass "$what: no mount, fill file or armed library left"
}

# 1. kill -9 mid-fault (no guardian), then recover.
start_run "$TMP/k" 0
grep -qF "$TMP/k" /proc/self/mountinfo || fail "volume not mounted during the run"
kill -9 "$FLPID"; wait "$FLPID" 2>/dev/null || true
grep -qF "$TMP/k" /proc/self/mountinfo || fail "the volume vanished without recover: nothing to prove"
[ -e "$FILL" ] && [ "$(armed "$CTL")" = 1 ] || fail "fill file or armed library vanished without recover"
run_fl recover
[ $RC -eq 0 ] || { show_output; fail "recover: exit $RC"; }
grep -q 'unmounted the volume of loader.0' "$TMP/stdout" "$TMP/stderr" || { show_output; fail "recover did not say it unmounted"; }
grep -q 'removed the fill file of loader.0' "$TMP/stdout" "$TMP/stderr" || { show_output; fail "recover did not say it removed the fill file"; }
grep -q 'disarmed the I/O error library of loader' "$TMP/stdout" "$TMP/stderr" || { show_output; fail "recover did not say it disarmed"; }
assert_clean "kill -9 + recover"

# 2. kill -9 mid-fault with the guardian (the default): it heals alone.
start_run "$TMP/g"
kill -9 "$FLPID"; wait "$FLPID" 2>/dev/null || true
for _ in $(seq 1 100); do
  grep -qF "$TMP/g" /proc/self/mountinfo || { [ -e "$FILL" ] || [ -e "$CTL" ] || break; }
  sleep 0.1
done
assert_clean "kill -9 with the guardian"

# 3. Ctrl-C mid-fault: the run heals by itself.
start_run "$TMP/c"
kill -INT "$FLPID"
for _ in $(seq 1 300); do kill -0 "$FLPID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$FLPID" 2>/dev/null && { kill -9 "$FLPID"; fail "faultline did not stop within 30s of SIGINT"; }
wait "$FLPID" 2>/dev/null || true
assert_clean "Ctrl-C"
ls "$FAULTLINE_STATE_DIR"/*.journal 2>/dev/null && fail "Ctrl-C left a journal" || true
pass "no journal left after Ctrl-C"
