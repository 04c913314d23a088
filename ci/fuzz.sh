#!/usr/bin/env bash
# Fuzz the two readers of untrusted files for a bounded time: the scenario
# loader and the JSON-lines history reader (with the reports rendered over
# what it read). libFuzzer + ASan + UBSan, built with clang.
#
#   ci/fuzz.sh [SECONDS_EACH]     default 60; ci/test.sh runs it
#
# Each fuzzer starts from the corpus kept in tests/fuzz/corpus/NAME (what
# earlier runs found), the shipped and test scenarios or the recorded
# histories, and the inputs that once crashed or hung it
# (tests/fuzz/regressions/NAME). New inputs go to a scratch folder, so the
# checkout is not changed; `ci/fuzz.sh --keep` merges them into the corpus
# (commit the result). A crash, a leak or a hang (10 s per input) fails.
set -euo pipefail
cd "$(dirname "$0")/.."

keep=0
if [ "${1:-}" = --keep ]; then keep=1; shift; fi
secs=${1:-60}
command -v clang >/dev/null || { echo "fuzz: clang is missing (ci/setup.sh installs it)" >&2; exit 1; }

CC=clang cmake -S . -B build-fuzz -DFL_FUZZ=ON -DFL_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_scenario fuzz_history >/dev/null

scratch=$(mktemp -d /tmp/fl-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
for name in scenario history; do
  mkdir -p "$scratch/$name/new" "$scratch/$name/seed" "$scratch/$name/art"
  case $name in
    scenario) cp scenarios/*.yaml tests/data/scenarios/*.yaml tests/data/report/*.yaml \
                 examples/thirdparty/*.yaml "$scratch/$name/seed/"; max_len=16384 ;;
    history)  cp tests/data/histories/*.jsonl "$scratch/$name/seed/"; max_len=65536 ;;
  esac
  corpus=tests/fuzz/corpus/$name
  mkdir -p "$corpus"
  # Known crashers first: each must now pass.
  if ls tests/fuzz/regressions/$name/* >/dev/null 2>&1; then
    ASAN_OPTIONS=detect_leaks=1 ./build-fuzz/fuzz_$name -timeout=10 -runs=1 \
      tests/fuzz/regressions/$name/* >"$scratch/$name.regress.log" 2>&1 \
      || { tail -40 "$scratch/$name.regress.log"; echo "fuzz: a regression input fails fuzz_$name" >&2; exit 1; }
  fi
  echo "fuzz: fuzz_$name for ${secs}s ($(ls "$corpus" | wc -l) corpus inputs)"
  ASAN_OPTIONS=detect_leaks=1 ./build-fuzz/fuzz_$name -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -max_len=$max_len -print_final_stats=1 \
    -artifact_prefix="$scratch/$name/art/" "$scratch/$name/new" "$corpus" "$scratch/$name/seed" \
    >"$scratch/$name.log" 2>&1 \
    || { tail -60 "$scratch/$name.log"; ls -la "$scratch/$name/art" >&2
         echo "fuzz: fuzz_$name found a crash, leak or hang (input above; add it to tests/fuzz/regressions/$name)" >&2
         exit 1; }
  grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$scratch/$name.log" | tr '\n' ' '; echo
  if [ $keep = 1 ]; then
    ./build-fuzz/fuzz_$name -merge=1 "$corpus" "$scratch/$name/new" >/dev/null 2>&1
    echo "fuzz: corpus $corpus now has $(ls "$corpus" | wc -l) inputs"
  fi
done
echo "fuzz: no crash"
