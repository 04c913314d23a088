#!/usr/bin/env bash
# A full scenario run under valgrind, both directions: no invalid read or
# write, no use of uninitialised memory, no definite leak in faultline
# itself (the services it starts run natively: --trace-children=no). A
# valgrind error exits 99, so it cannot pass as a verdict.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
command -v valgrind >/dev/null || { echo "skip: valgrind is not installed (ci/setup.sh installs it)"; exit 77; }

vg() {
  set +e
  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --trace-children=no --log-file="$TMP/valgrind.log" \
    "$FL" "$@" >"$TMP/stdout" 2>"$TMP/stderr"
  RC=$?
  set -e
}

sc=tests/data/report/short-kill.yaml
vg run $sc --var profile=fixed --out "$TMP/fixed" -q
[ $RC -eq 0 ] || { cat "$TMP/valgrind.log"; show_output; fail "fixed under valgrind: exit $RC, expected 0"; }
pass "fixed: passes, valgrind clean"
vg run $sc --var profile=buggy --out "$TMP/buggy" -q
[ $RC -eq 1 ] || { cat "$TMP/valgrind.log"; show_output; fail "buggy under valgrind: exit $RC, expected 1"; }
grep -q 'FAIL lifecycle(submit)' "$TMP/stdout" || fail "buggy: lifecycle not reported"
pass "buggy: the violation is reported, valgrind clean"
# The offline commands over what was recorded, too.
vg report "$TMP/buggy/short-kill" --html "$TMP/r.html" --junit "$TMP/r.xml" -q
[ $RC -eq 1 ] || { cat "$TMP/valgrind.log"; fail "report under valgrind: exit $RC, expected 1"; }
vg check "$TMP/buggy/short-kill/events.jsonl" $sc --var profile=buggy -q
[ $RC -eq 1 ] || { cat "$TMP/valgrind.log"; fail "check under valgrind: exit $RC, expected 1"; }
pass "report and check: valgrind clean"
