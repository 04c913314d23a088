#!/usr/bin/env bash
# Install what faultline needs (Debian 12, as root; idempotent) and build it.
#   ci/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config
  libuv1-dev libcurl4-openssl-dev libhiredis-dev libfyaml-dev libjansson-dev
  libxml2-dev libcmocka-dev libmicrohttpd-dev libfaketime
  redis-server redis-sentinel libxml2-utils curl wrk python3 procps
  git strace
  # third-party programs the end-to-end tests drive (tests/e2e/thirdparty_*.sh)
  python3-rq nginx
  # the HTML report is checked in a real browser (tests/e2e/report_html.sh)
  chromium
  # a full run under valgrind (tests/e2e/valgrind.sh); the fuzzers (ci/fuzz.sh)
  valgrind clang libclang-rt-14-dev
  # bench/bench_proxy.c compares the fault proxy with haproxy in TCP mode
  haproxy
  # the compose target's tests (tests/e2e/compose_*.sh start a private
  # dockerd through ci/docker-setup.sh; policy-rc.d below keeps the
  # packages' own services from starting)
  docker.io docker-compose
  # disk.errors against third-party programs (tests/e2e/thirdparty_disk_errors.sh)
  sqlite3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages: ${missing[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the Debian redis-server (and docker, containerd)
  # services from starting: the tests start their own on loopback.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build=${1:-build}
shift || true
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
