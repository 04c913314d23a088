#!/usr/bin/env bash
# killed-pod-mid-job against the demo as a compose project, in both
# directions, with the same scenario file as the local target and only the
# target changed on the command line. The project runs the profile under
# test (the compose file owns the command line; the scenario's `command:`
# is ignored on compose, docs/compose.md).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_compose.sh"
cd "$SRC"
compose_setup

target=(--target compose --compose-project "$PROJECT")

compose_up buggy
run_fl run scenarios/killed-pod-mid-job.yaml --var profile=buggy "${target[@]}" \
  --out "$TMP/buggy" --junit "$TMP/buggy.xml"
[ $RC -eq 1 ] || { show_output; fail "buggy: exit $RC, expected 1"; }
python3 - "$TMP/buggy.xml" <<'PY' || fail "buggy: lifecycle(submit) did not fail with job ids"
import re, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
tc = [t for t in root.iter('testcase') if t.get('name') == 'lifecycle(submit)'][0]
f = tc.find('failure')
assert f is not None, 'lifecycle(submit) has no failure'
assert re.search(r'\d+ of \d+ jobs accepted by submit never reached complete', f.get('message', '')), f.get('message')
ids = re.findall(r'^(api-[0-9a-f]{12}-\d+-\d+-[0-9a-f]+): last seen (?:pending|running)', f.text or '', re.M)
assert ids, 'no job ids (api-CONTAINER-...) with their last status in the failure body'
print('lifecycle failure:', f.get('message'))
PY
assert_junit_valid "$TMP/buggy.xml"
ev="$TMP/buggy/killed-pod-mid-job/events.jsonl"
grep -q 'pod kill: SIGKILL to container '"$PROJECT"'_api_[0-9]* (host pid [0-9]*)' "$ev" \
  || fail "no pod kill of a container in the history"
grep -q 'killed by SIGKILL (container .* died, exit code 137)' "$ev" || fail "no die event (exit code 137) in the history"
grep -q 'started container .* (incarnation 2)' "$ev" || fail "the restart policy did not bring a killed container back"
assert_project_restored
pass "buggy profile caught on compose"

compose_up fixed
run_fl run scenarios/killed-pod-mid-job.yaml "${target[@]}" --out "$TMP/fixed" --junit "$TMP/fixed.xml"
[ $RC -eq 0 ] || { show_output; fail "fixed: exit $RC, expected 0"; }
assert_junit_valid "$TMP/fixed.xml"
grep -q '<failure' "$TMP/fixed.xml" && fail "fixed run has a failure"
grep -q 'compose' "$TMP/fixed.xml" || fail "the JUnit does not name the compose target"
assert_project_restored
! ls "$FAULTLINE_STATE_DIR"/*.journal >/dev/null 2>&1 || fail "a journal was left behind"
pass "fixed profile passes on compose"
