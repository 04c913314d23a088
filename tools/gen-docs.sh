#!/usr/bin/env bash
# Regenerate the reference section of docs/scenario-format.md from the
# parameter tables (faultline reference).  tools/gen-docs.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
fl=${1:-build}/faultline
doc=docs/scenario-format.md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
  sed -n '1,/<!-- reference:begin/p' "$doc"
  "$fl" reference
  sed -n '/<!-- reference:end/,$p' "$doc"
} > "$tmp"
cp "$tmp" "$doc"
