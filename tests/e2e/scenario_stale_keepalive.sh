#!/usr/bin/env bash
# stale-keepalive in both directions: http.close_idle closes idle
# keep-alive connections after 5 s; a pool that reuses them blindly makes
# the users' calls fail (slo fails during the fault); retrying once on a
# fresh connection keeps them all.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

run_fl run scenarios/stale-keepalive.yaml --var profile=buggy --out "$TMP/buggy" --junit "$TMP/buggy.xml"
[ $RC -eq 1 ] || { show_output; fail "buggy: exit $RC, expected 1"; }
grep -q 'testcase name="slo(users)"' "$TMP/buggy.xml" || fail "no slo testcase"
grep -Eq 'during: [0-9]+ requests, [1-9][0-9.]*% errors' "$TMP/buggy.xml" || { show_output; fail "buggy: slo did not report errors during the fault"; }
assert_junit_valid "$TMP/buggy.xml"
ev="$TMP/buggy/stale-keepalive/events.jsonl"
grep -q '"f":"http"' "$ev" || fail "no proxy exchanges in the history"
assert_no_leftovers "$ev"
pass "buggy profile caught: $(grep -m1 'slo(users)' "$TMP/stdout" || true)"

run_fl run scenarios/stale-keepalive.yaml --out "$TMP/fixed" --junit "$TMP/fixed.xml"
[ $RC -eq 0 ] || { show_output; fail "fixed: exit $RC, expected 0"; }
assert_junit_valid "$TMP/fixed.xml"
grep -q '<failure' "$TMP/fixed.xml" && fail "fixed run has a failure"
assert_no_leftovers "$TMP/fixed/stale-keepalive/events.jsonl"
pass "fixed profile passes"
