#!/usr/bin/env bash
# Set everything up and run every test: unit tests and end-to-end tests on a
# normal build, then the unit tests again under ASan + UBSan. Nothing here
# may use a file outside the checkout: tools/check-hermetic.sh checks the
# tracked files first, and the ctest run includes e2e_hermetic, which runs
# the unit tests and the quick end-to-end tests under strace.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup.sh build
bash tools/check-hermetic.sh
(cd build && ctest --output-on-failure -j 2 --timeout 900)

bash ci/setup.sh build-asan -DFL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j 2 -L unit)
# One full scenario under ASan + UBSan, both directions (faultline and the
# demo service are both instrumented).
for profile in fixed buggy; do
  want=$([ $profile = buggy ] && echo 1 || echo 0)
  out=$(mktemp -d /tmp/fl-asan.XXXXXX)
  set +e
  ASAN_OPTIONS=detect_leaks=1 FAULTLINE_STATE_DIR="$out/state" ./build-asan/faultline run \
    tests/data/report/short-kill.yaml --var profile=$profile --out "$out" -q
  rc=$?
  set -e
  rm -rf "$out"
  [ $rc -eq $want ] || { echo "ASan run ($profile): exit $rc, expected $want" >&2; exit 1; }
done

# The scenario loader and the history reader under libFuzzer, bounded.
bash ci/fuzz.sh 60
