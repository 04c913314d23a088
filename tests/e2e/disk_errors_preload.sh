#!/usr/bin/env bash
# disk.errors next to an LD_PRELOAD the service already has: both
# libraries reach the command (merged, each once), not the exec shim, and
# the injected error shows in the program. Then a service that loads no
# library (it clears LD_PRELOAD before exec'ing its program) makes the
# injection fail (exit 2) instead of a run that passes without a fault.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
cat >"$TMP/p.yaml" <<'YAML'
name: preload
duration: 3s
settle: 0s
vars: { dir: /tmp }
services:
  w:
    env: { LD_PRELOAD: "libc.so.6" }
    command: [sh, -c, "echo preload=$$LD_PRELOAD; while :; do dd if=/dev/zero of=${dir}/f bs=1k count=1 status=none; sleep 0.2; done"]
faults:
  - { at: 1s, for: 1s, disk.errors: { service: w, path: "${dir}", errno: EDQUOT } }
invariants: []
YAML
mkdir -p "$TMP/d"
run_fl run "$TMP/p.yaml" --var dir="$TMP/d" --out "$TMP/o"
[ $RC -eq 0 ] || { show_output; fail "exit $RC"; }
LOG=$TMP/o/preload/w.0.log
grep -qx "preload=$BUILD/faultline-ioerr.so:libc.so.6" "$LOG" || { cat "$LOG"; fail "LD_PRELOAD not merged"; }
grep -q "Disk quota exceeded" "$LOG" || { cat "$LOG"; fail "no EDQUOT in dd's output"; }
pass "both preloads reach the command; dd: $(grep -m1 'Disk quota' "$LOG")"

[ -x "$BUILD/static_sleep" ] || fail "static_sleep not built"
sed -e 's|command: \[sh, -c, .*|command: [static_sleep, "30"]|' "$TMP/p.yaml" >"$TMP/q.yaml"
run_fl run "$TMP/q.yaml" --var dir="$TMP/d" --out "$TMP/o2"
[ $RC -eq 2 ] || { show_output; fail "no library loaded: exit $RC, expected 2"; }
cat "$TMP/stdout" "$TMP/stderr" | grep -q "no process of service w loaded" || { show_output; fail "the injection error does not say why"; }
pass "a service without the library: the injection fails and says why"
