# Sourced by the jobsvc smoke tests (CMakeLists.txt runs no lib*.sh):
# tools present, a work folder, every started PID killed by PID on exit
# (their logs shown when the test failed), fail/pass, free loopback ports.
# The caller sets WORK_PREFIX before sourcing and appends to PIDS.
set -euo pipefail

BUILD_DIR=${FL_BUILD_DIR:?set FL_BUILD_DIR to the build directory holding jobsvc}
JOBSVC=$BUILD_DIR/jobsvc
for tool in redis-server redis-cli curl python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed"; exit 1; }
done
[ -x "$JOBSVC" ] || { echo "FAIL: $JOBSVC not built"; exit 1; }

WORK=$(mktemp -d "/tmp/${WORK_PREFIX:-jobsvc}.XXXXXX")
PIDS=()

cleanup() {
  local rc=$?
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    kill -9 "$pid" 2>/dev/null || true
  done
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    { wait "$pid"; } 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ]; then
    for log in "$WORK"/*.log; do
      [ -f "$log" ] || continue
      echo "---- $(basename "$log") (last 30 lines)"
      tail -n 30 "$log"
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
