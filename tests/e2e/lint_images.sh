#!/usr/bin/env bash
# lint_images.sh - `faultline lint-images` as CI runs it: exit codes, the
# exact finding lines, --allow, and a JUnit report that validates against
# both schemas and counts what the console reported.
source "$(dirname "$0")/lib.sh"
DATA=tests/data/lint
cd "$SRC"

# Findings: exit 1, one line per finding with file:line:col and the rule.
run_fl lint-images "$DATA/stack" --junit "$TMP/lint.xml"
[ "$RC" -eq 1 ] || { show_output; fail "findings: exit $RC, want 1"; }
[ "$(wc -l <"$TMP/stdout")" -eq 21 ] || { show_output; fail "want 21 finding lines"; }
grep -qx "$DATA/stack/k8s.yaml:17:18: mutable-tag: registry:5000/shop/migrate:1.2 (Deployment web: initContainer migrate) - a tag can be moved to another image; pin a digest (NAME:TAG@sha256:...)" "$TMP/stdout" \
  || { show_output; fail "registry-with-port finding line"; }
grep -q "^$DATA/stack/helm-rendered.yaml:33:19: mutable-tag: nginx:1.16.0 (Deployment release-shop: container shop; from shop/templates/deployment.yaml)" "$TMP/stdout" \
  || { show_output; fail "helm finding names its template"; }
grep -q "^$DATA/stack/docker-compose.yml:33:12: latest: busybox:latest (service debug)" "$TMP/stdout" \
  || fail "compose latest finding"
grep -q "^$DATA/stack/Dockerfile:15:6: unresolved: \${BASE_IMAGE}" "$TMP/stdout" || fail "unresolved ARG"
grep -q "pinned" "$TMP/stdout" && fail "a pinned reference was reported as a finding"
grep -q "27 references in 4 files: 21 findings (5 no-tag, 2 latest, 11 mutable-tag, 2 unresolved, 1 invalid), 6 pinned, 0 allowed" "$TMP/stderr" \
  || { show_output; fail "summary line"; }
pass "findings: exit 1, 21 lines with positions"

assert_junit_valid "$TMP/lint.xml"
[ "$(grep -c '<testsuite ' "$TMP/lint.xml")" -eq 4 ] || fail "one suite per file"
[ "$(grep -c '<testcase ' "$TMP/lint.xml")" -eq 27 ] || fail "one testcase per reference"
[ "$(grep -c '<failure ' "$TMP/lint.xml")" -eq 21 ] || fail "one failure per finding"
grep -q 'failure message="mutable-tag: nginx:1.16.0" type="mutable-tag"' "$TMP/lint.xml" || fail "failure type is the rule"
pass "JUnit: 4 suites, 27 testcases, 21 failures"

# --allow: exempted references are skipped, not failures.
run_fl lint-images "$DATA/stack" --allow 'localhost:5000/*' --allow 'docker.io/library/*' \
  --junit "$TMP/allow.xml"
[ "$RC" -eq 1 ] || fail "allow: exit $RC, want 1 (findings are left)"
[ "$(wc -l <"$TMP/stdout")" -eq 10 ] || { show_output; fail "allow: want 10 findings left"; }
assert_junit_valid "$TMP/allow.xml"
[ "$(grep -c '<skipped>' "$TMP/allow.xml")" -eq 11 ] || fail "allow: 11 skipped testcases"
run_fl lint-images "$DATA/stack/docker-compose.yml" --allow '*'
[ "$RC" -eq 0 ] || fail "allow '*': exit $RC, want 0"
pass "--allow exempts, as written and normalized"

# Standard input, as `helm template | faultline lint-images -` gives it.
set +e
"$FL" lint-images - <"$DATA/stack/helm-rendered.yaml" >"$TMP/stdout" 2>"$TMP/stderr"
RC=$?
set -e
[ "$RC" -eq 1 ] || { show_output; fail "stdin: exit $RC, want 1"; }
grep -q "^<stdin>:33:19: mutable-tag: nginx:1.16.0 (Deployment release-shop: container shop; from shop/templates/deployment.yaml)" "$TMP/stdout" \
  || { show_output; fail "stdin: finding line"; }
pass "- reads standard input"

# Clean: exit 0, nothing on stdout.
run_fl lint-images "$DATA/clean"
[ "$RC" -eq 0 ] || { show_output; fail "clean: exit $RC, want 0"; }
[ ! -s "$TMP/stdout" ] || fail "clean: output on stdout"
pass "clean files: exit 0"

# Unreadable or unparsable: exit 2 with file:line:col; a finding wins.
run_fl lint-images "$DATA/bad" --junit "$TMP/bad.xml"
[ "$RC" -eq 2 ] || { show_output; fail "bad: exit $RC, want 2"; }
grep -q "^$DATA/bad/broken.yaml:9:6: error: YAML syntax error" "$TMP/stderr" || { show_output; fail "syntax error position"; }
grep -q "^$DATA/bad/image-not-string.yaml:4:7: error: service api: \`image\` must be a string" "$TMP/stderr" || fail "structure error"
assert_junit_valid "$TMP/bad.xml"
[ "$(grep -c '<error ' "$TMP/bad.xml")" -eq 2 ] || fail "bad: one error testcase per file"
run_fl lint-images "$DATA/bad" "$DATA/stack/k8s.yaml"
[ "$RC" -eq 1 ] || fail "bad + findings: exit $RC, want 1"
run_fl lint-images "$TMP/no-such-dir"
[ "$RC" -eq 2 ] || fail "missing path: exit $RC, want 2"
run_fl lint-images "$DATA/clean" --junit "$TMP/no-such-dir/lint.xml"
[ "$RC" -eq 2 ] || fail "unwritable JUnit: exit $RC, want 2"
grep -q "cannot write" "$TMP/stderr" || fail "unwritable JUnit: no message"
pass "unreadable input or unwritable report: exit 2, findings win"

run_fl lint-images
[ "$RC" -eq 64 ] || fail "no path: exit $RC, want 64"
run_fl lint-images --bogus x
[ "$RC" -eq 64 ] || fail "unknown option: exit $RC, want 64"
run_fl --help
grep -q "lint-images" "$TMP/stdout" || fail "--help names lint-images"
pass "usage: 64; --help lists the command"
