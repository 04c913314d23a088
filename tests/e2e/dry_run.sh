#!/usr/bin/env bash
# --dry-run: the plan is printed and nothing starts; the same seed gives the
# same plan, other seeds pick other replicas; and the picks a plan shows
# are the ones a real run with that seed makes.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
sc=tests/data/report/short-kill.yaml

run_fl run $sc --dry-run --seed 5 --out "$TMP/out"
[ $RC -eq 0 ] || { show_output; fail "dry run: exit $RC"; }
cp "$TMP/stdout" "$TMP/plan5"
grep -q '^plan: short-kill' "$TMP/plan5" && grep -q 'dry run: nothing was started' "$TMP/plan5" \
  || { cat "$TMP/plan5"; fail "no plan printed"; }
grep -q 'process.pause.*picks (one of 2): api\.[01]$' "$TMP/plan5" || { cat "$TMP/plan5"; fail "no pick for the pause"; }
grep -q 'process.kill.*picks (one of 2): api\.[01]$' "$TMP/plan5" || { cat "$TMP/plan5"; fail "no pick for the kill"; }
[ ! -e "$TMP/out" ] || fail "a dry run created its output folder"
[ ! -e "$FAULTLINE_STATE_DIR" ] || [ -z "$(ls -A "$FAULTLINE_STATE_DIR")" ] || fail "a dry run journaled something"
run_fl run $sc --dry-run --seed 5
diff "$TMP/plan5" "$TMP/stdout" || fail "the same seed gave another plan"
pass "plan printed, nothing started, the same seed gives the same plan"

picks() { grep -o 'picks (one of 2): api\.[01]' "$1" | tr '\n' ' '; }
seen=""
for s in 1 2 3 4 5 6 7 8 9 10; do
  run_fl run $sc --dry-run --seed $s
  seen="$seen$(picks "$TMP/stdout")|"
done
[ "$(echo "$seen" | tr '|' '\n' | sort -u | grep -c .)" -ge 2 ] || fail "ten seeds, one plan: $seen"
pass "other seeds pick differently"

# Without --seed and without a seed in the file, the plan names the seed it drew.
grep -v '^seed:' $sc > "$TMP/noseed.yaml"
run_fl run "$TMP/noseed.yaml" --dry-run
grep -q 'give --seed [0-9]* to run this plan' "$TMP/stdout" || { show_output; fail "random seed not named"; }
seed=$(grep -o 'give --seed [0-9]*' "$TMP/stdout" | grep -o '[0-9]*$')
grep -v 'give --seed' "$TMP/stdout" > "$TMP/planr"
run_fl run "$TMP/noseed.yaml" --dry-run --seed "$seed"
diff "$TMP/planr" "$TMP/stdout" >/dev/null || fail "--seed $seed does not give the plan it was drawn for"
pass "a drawn seed is named and reproduces its plan"

# The real run with seed 5 acts on the instances the plan named.
run_fl run $sc --seed 5 --out "$TMP/real" -q
[ $RC -eq 0 ] || { show_output; fail "real run: exit $RC"; }
ev="$TMP/real/short-kill/events.jsonl"
for f in pause kill; do
  want=$(grep -o "process.$f.*picks (one of 2): api\.[01]" "$TMP/plan5" | grep -o 'api\.[01]$')
  got=$(grep "\"type\":\"ok\",\"source\":\"process.$f\",\"f\":\"fault\"" "$ev" | head -1 | grep -o '"key":"[^"]*"' | cut -d'"' -f4)
  [ "$want" = "$got" ] || fail "process.$f: the plan said $want, the run acted on $got"
done
pass "the run with seed 5 acted on the planned instances"

run_fl run tests/data/cli/broken.yaml --dry-run
[ $RC -eq 65 ] || fail "dry run of a broken scenario: exit $RC, expected 65"
pass "a broken scenario: exit 65"
