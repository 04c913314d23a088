#!/usr/bin/env bash
# check-hermetic.sh - the tests and scripts use nothing outside the checkout,
# so `bash ci/test.sh` passes on a fresh clone with nothing beside it.
#
#   tools/check-hermetic.sh             static: no tracked file names a path
#                                       outside the checkout
#   tools/check-hermetic.sh BUILD_DIR   then dynamic: the unit tests and the
#                                       quick end-to-end tests (cli, docs,
#                                       layers) run under strace, and no
#                                       process they start touches a path
#                                       outside the checkout
#
# Exit 0 when clean, 1 when something points or reaches outside (listed on
# stderr), 2 when the check cannot run (no strace, nothing traced). The
# rules are in the header of tools/hermetic.py; tests/e2e/hermetic.sh proves
# they catch planted outside reads, and runs this over the repository.
set -uo pipefail
cd "$(dirname "$0")/.."
python3 tools/hermetic.py static . || exit $?
[ $# -ge 1 ] || exit 0
python3 tools/hermetic.py trace "$1"
