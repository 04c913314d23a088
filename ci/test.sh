#!/usr/bin/env bash
# Set everything up and run every test: unit tests and end-to-end tests on a
# normal build, then the unit tests again under ASan + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup.sh build
(cd build && ctest --output-on-failure -j 2 --timeout 900)

bash ci/setup.sh build-asan -DFL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j 2 -L unit)
