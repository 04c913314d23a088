#!/usr/bin/env bash
# The HTML report, rendered by a real browser: a short killed-pod run in
# both directions, then `faultline report` renders each recorded run again
# and headless Chromium runs the page's script. What the page shows must
# match what the run concluded: the fault bands (one with a duration, one
# instant), the number of violated invariants, a counterexample's key.
source "$(dirname "$0")/lib.sh"
cd "$SRC"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "skip: chromium is not installed (ci/setup.sh installs it)"; exit 77; }

# The page as the browser leaves it after its script ran (no network: the
# page must not need it, and the test machine may have none).
render() {
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$TMP/chromium" --dump-dom "file://$1" >"$2" 2>"$TMP/chromium.err" \
    || { tail -20 "$TMP/chromium.err"; fail "chromium could not render $1"; }
  grep -q 'data-rendered="1"' "$2" || fail "the page's script did not finish (no data-rendered)"
}

sc=tests/data/report/short-kill.yaml
for profile in buggy fixed; do
  run_fl run $sc --var profile=$profile --out "$TMP/$profile" -q
  want=$([ $profile = buggy ] && echo 1 || echo 0)
  [ $RC -eq $want ] || { show_output; fail "$profile: exit $RC, expected $want"; }
  [ -s "$TMP/$profile/junit.html" ] || fail "$profile: run wrote no HTML beside the JUnit"
  [ -s "$TMP/$profile/short-kill/verdicts.json" ] || fail "$profile: no verdicts.json"

  run_fl report "$TMP/$profile/short-kill" --html "$TMP/$profile.html" --junit "$TMP/$profile.xml"
  [ $RC -eq $want ] || { show_output; fail "$profile: report exit $RC, expected $want (the recorded verdict)"; }
  assert_junit_valid "$TMP/$profile.xml"
  # The JUnit rendered again says what the run's own JUnit said (times aside).
  strip() { sed -E 's/ (time|timestamp)="[^"]*"//g' "$1"; }
  diff <(strip "$TMP/$profile/junit.xml") <(strip "$TMP/$profile.xml") >"$TMP/junit.diff" \
    || { cat "$TMP/junit.diff"; fail "$profile: the re-rendered JUnit differs from the run's"; }

  render "$TMP/$profile.html" "$TMP/$profile.dom"
  dom="$TMP/$profile.dom"
  grep -Eq "id=\"fl-violations\" data-count=\"$want\"" "$dom" \
    || fail "$profile: the page does not show $want violated invariant(s)"
  # One band with a duration (the pause: 1.5s) and one instant (the kill).
  [ "$(grep -o 'class="fl-band"' "$dom" | wc -l)" -eq 1 ] || fail "$profile: no band for the pause"
  [ "$(grep -o 'class="fl-band fl-instant"' "$dom" | wc -l)" -eq 1 ] || fail "$profile: no mark for the kill"
  grep -q 'data-status="'"$([ $profile = buggy ] && echo FAIL || echo PASS)"'"' "$dom" \
    || fail "$profile: the run's status is not shown"
done
pass "both directions: the page shows the fault bands and the number of violations"

# A counterexample's key from the verdicts is in the page, in the table of
# counterexamples and as a mark on the timeline.
key=$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print(v["invariants"][0]["cex"][0]["key"])' \
      "$TMP/buggy/short-kill/verdicts.json")
[ -n "$key" ] || fail "no counterexample in the buggy verdicts"
grep -q "<td class=\"fl-cex-key\">$key</td>" "$TMP/buggy.dom" || fail "counterexample $key is not in the page"
marks=$(grep -o 'class="fl-violation-mark"' "$TMP/buggy.dom" | wc -l)
[ "$marks" -ge 1 ] || fail "no violation mark on the timeline"
! grep -q 'class="fl-violation-mark"' "$TMP/fixed.dom" || fail "violation marks on a passing run"
pass "counterexample $key shown, $marks violation marks on the timeline"

# A history whose strings try to break out of the page: a note and a probe
# value holding </script> and <!--<script>. The page still renders and
# shows them as text.
python3 - "$TMP/buggy/short-kill/events.jsonl" "$TMP/hostile/events.jsonl" <<'PY'
import json, os, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(os.path.dirname(dst), exist_ok=True)
ops = [json.loads(l) for l in open(src)]
done = ops.pop()                       # keep "phase done" last
evil = '</script><!--<script>alert(1)</script>-->'
ops.append(dict(done, f="note", source="operator", value=evil, process=1300000001))
ops.append(done)
with open(dst, "w") as f:
    for i, o in enumerate(ops):
        o["index"] = i
        f.write(json.dumps(o) + "\n")
PY
cp "$TMP/buggy/short-kill/verdicts.json" "$TMP/hostile/verdicts.json"
run_fl report "$TMP/hostile" --html "$TMP/hostile.html"
[ $RC -eq 1 ] || { show_output; fail "hostile: report exit $RC"; }
[ "$(grep -c '</script>' "$TMP/hostile.html")" -eq 2 ] || fail "a value closed a script element"
render "$TMP/hostile.html" "$TMP/hostile.dom"
grep -q 'class="fl-note"' "$TMP/hostile.dom" || fail "the note is not shown"
grep -q '&lt;/script&gt;&lt;!--&lt;script&gt;' "$TMP/hostile.dom" || fail "the note is not shown as text"
pass "hostile strings stay text"

# Usage and unreadable inputs.
run_fl report "$TMP/buggy/short-kill"
[ $RC -eq 64 ] || fail "report without an output: exit $RC, expected 64"
run_fl report "$TMP/nothing-here" --html "$TMP/x.html"
[ $RC -eq 2 ] || fail "report of a missing run: exit $RC, expected 2"
echo '{"format": "faultline-verdicts/1", "scenario": {"name": "x"}, "invariants": [{"validity": "maybe"}]}' \
  > "$TMP/hostile/verdicts.json"
run_fl report "$TMP/hostile" --html "$TMP/x.html"
[ $RC -eq 2 ] && grep -q 'validity' "$TMP/stderr" || { show_output; fail "a bad verdicts file: exit $RC"; }
pass "usage and unreadable inputs"
