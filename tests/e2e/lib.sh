# Shared by the end-to-end tests (sourced; CMakeLists.txt runs no lib*.sh).
set -euo pipefail
SRC=${FL_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${FL_BUILD_DIR:-$SRC/build}
FL=$BUILD/faultline
SCHEMAS=$SRC/tests/data/junit
TMP=$(mktemp -d /tmp/fl-e2e.XXXXXX)
# Journals of the runs a test starts stay in its own folder.
export FAULTLINE_STATE_DIR="$TMP/state"
cleanup_tmp() { rm -rf "$TMP"; }
trap cleanup_tmp EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# Every pid the target started (from the events file) must be gone.
assert_no_leftovers() {
  local events=$1 pids pid left=""
  pids=$(grep -o '"started pid [0-9]*' "$events" | grep -o '[0-9]*$' | sort -u || true)
  [ -n "$pids" ] || fail "no 'started pid' record in $events"
  for pid in $pids; do
    if kill -0 "$pid" 2>/dev/null; then left="$left $pid"; fi
  done
  [ -z "$left" ] || { ps -o pid,stat,cmd -p ${left// /,} >&2 || true; fail "processes left behind:$left"; }
  pass "no process left behind ($(echo $pids | wc -w) started)"
}

assert_junit_valid() {
  local xml=$1
  [ -f "$SCHEMAS/ant-junit-strict.xsd" ] || fail "schema missing: $SCHEMAS"
  xmllint --nonet --noout --schema "$SCHEMAS/ant-junit-strict.xsd" "$xml" 2>"$TMP/xmllint.err" \
    || { cat "$TMP/xmllint.err" >&2; fail "$xml does not validate against ant-junit-strict.xsd"; }
  xmllint --nonet --noout --schema "$SCHEMAS/jenkins-junit.xsd" "$xml" 2>"$TMP/xmllint.err" \
    || { cat "$TMP/xmllint.err" >&2; fail "$xml does not validate against jenkins-junit.xsd"; }
  pass "$(basename "$xml") validates against both JUnit schemas"
}

# Run faultline, capture its exit code without tripping set -e.
run_fl() {
  set +e
  "$FL" "$@" >"$TMP/stdout" 2>"$TMP/stderr"
  RC=$?
  set -e
}

show_output() {
  echo "--- stdout"; cat "$TMP/stdout"; echo "--- stderr"; tail -n 60 "$TMP/stderr"
  # Sentinel decisions explain a failover that did not happen.
  for f in $(find "$TMP" -name '*sentinel*.log' 2>/dev/null | head -3); do
    echo "--- $f"; grep -E 'sdown|odown|failover|elected|switch|vote|leader' "$f" | tail -n 15
  done
}
