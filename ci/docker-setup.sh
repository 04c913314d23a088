#!/usr/bin/env bash
# docker-setup.sh - a Docker engine for the compose target's tests.
#
#   ci/docker-setup.sh install      install Debian's docker.io + docker-compose
#                                   when missing (as root; idempotent)
#   ci/docker-setup.sh start DIR    make an engine answer: when none answers on
#                                   $DOCKER_HOST (default the system socket),
#                                   start dockerd with its state under DIR and
#                                   print `export DOCKER_HOST=...` lines for it;
#                                   exit 3 when no engine can run here (why on
#                                   stderr)
#   ci/docker-setup.sh stop DIR     stop the dockerd that `start DIR` started
#                                   (nothing when it found one running) and
#                                   remove what it left: docker0, mounts,
#                                   ip_forward
#
# The daemon this script starts is private to the test: its own socket,
# data and exec roots under DIR, no default bridge (compose makes its own
# networks), no iptables rules and no ip forwarding (published ports are served by docker-proxy on 127.0.0.1, which needs
# neither, and containers reach nothing outside), so stopping it leaves the
# machine as it was.
set -euo pipefail

cmd=${1:-}
dir=${2:-}

engine_answers() {
  timeout 10 docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1
}

case "$cmd" in
install)
  missing=()
  for p in docker.io docker-compose; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && exit 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "docker-setup: missing packages: ${missing[*]}; run as root or install them" >&2
    exit 3
  fi
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d keeps the packages' services (docker, containerd) from
  # starting: a test starts its own private daemon.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || { echo "docker-setup: cannot install ${missing[*]}" >&2; exit 3; }
  fi
  ;;
start)
  [ -n "$dir" ] || { echo "usage: $0 start DIR" >&2; exit 2; }
  if engine_answers; then
    exit 0    # somebody's engine: use it, start nothing
  fi
  command -v dockerd >/dev/null || { echo "docker-setup: no dockerd (run: $0 install)" >&2; exit 3; }
  [ "$(id -u)" -eq 0 ] || { echo "docker-setup: dockerd needs root" >&2; exit 3; }
  mkdir -p "$dir/data" "$dir/exec"
  sock="$dir/docker.sock"
  # What this script must restore when it stops the daemon.
  cat /proc/sys/net/ipv4/ip_forward > "$dir/ip_forward.before" 2>/dev/null || echo 0 > "$dir/ip_forward.before"
  ip link show docker0 >/dev/null 2>&1 && touch "$dir/docker0.before" || true
  nohup dockerd --host "unix://$sock" --data-root "$dir/data" --exec-root "$dir/exec" \
    --pidfile "$dir/dockerd.pid" --bridge none --iptables=false --ip-forward=false \
    --ip-masq=false --userland-proxy=true >"$dir/dockerd.log" 2>&1 </dev/null &
  echo $! > "$dir/dockerd.started"
  for _ in $(seq 1 120); do
    if DOCKER_HOST="unix://$sock" engine_answers; then
      echo "export DOCKER_HOST=unix://$sock"
      exit 0
    fi
    kill -0 "$(cat "$dir/dockerd.started")" 2>/dev/null || break
    sleep 0.5
  done
  echo "docker-setup: dockerd did not come up; its log:" >&2
  tail -n 20 "$dir/dockerd.log" >&2 || true
  "$0" stop "$dir" >&2 || true
  exit 3
  ;;
stop)
  [ -n "$dir" ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
  [ -f "$dir/dockerd.started" ] || exit 0
  pid=$(cat "$dir/dockerd.started")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
  fi
  # containerd-shims of killed containers would outlive a SIGKILLed daemon.
  for p in $(grep -l -- "$dir/exec" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
    kill -KILL "$p" 2>/dev/null || true
  done
  [ -f "$dir/docker0.before" ] || ip link del docker0 2>/dev/null || true
  if [ -f "$dir/ip_forward.before" ]; then
    cat "$dir/ip_forward.before" > /proc/sys/net/ipv4/ip_forward 2>/dev/null || true
  fi
  # Mounts the daemon left below its roots (overlay layers, netns files).
  grep -F " $dir/" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  rm -f "$dir/dockerd.started"
  ;;
*)
  echo "usage: $0 install | start DIR | stop DIR" >&2
  exit 2
  ;;
esac
