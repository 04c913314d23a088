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
