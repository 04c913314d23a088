#!/usr/bin/env bash
# The source folders are layered leaf-first: includes and linked symbols
# point only down (tools/check-layers.sh). A cycle between folders fails.
set -euo pipefail
cd "${FL_SOURCE_DIR:-$(dirname "$0")/../..}"
bash tools/check-layers.sh "${FL_BUILD_DIR:-build}"
