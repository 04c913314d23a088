#!/usr/bin/env bash
# compose-images.sh - the demo's container images, built here without a
# registry: a root filesystem holding the built binaries and every shared
# library they link (found with ldd), turned into an image by `docker
# import`. Each image is tagged with the digest of its root filesystem, so
# the compose file names an immutable reference.
#
#   ci/compose-images.sh build BUILD_DIR    build both images; prints
#                                           FL_JOBSVC_IMAGE=... and
#                                           FL_REDIS_IMAGE=... lines
#   ci/compose-images.sh remove REF...      remove the images named
#
# Needs a Docker engine ($DOCKER_HOST) and redis-server (Debian's).
set -euo pipefail
cd "$(dirname "$0")/.."

# rootfs DIR BINARY...: copy each binary to DIR/usr/local/bin and the
# libraries it links (and the dynamic loader) to the same paths under DIR.
rootfs() {
  local dir=$1 bin lib
  shift
  mkdir -p "$dir/usr/local/bin" "$dir/tmp" "$dir/data" "$dir/etc" "$dir/proc" "$dir/sys" "$dir/dev"
  chmod 1777 "$dir/tmp"
  echo "root:x:0:0:root:/:/nonexistent" > "$dir/etc/passwd"
  echo "root:x:0:" > "$dir/etc/group"
  for bin in "$@"; do
    cp -L "$bin" "$dir/usr/local/bin/"
    for lib in $(ldd "$bin" | grep -o '/[^ ]*' | sort -u); do
      mkdir -p "$dir$(dirname "$lib")"
      cp -L "$lib" "$dir$lib"
    done
  done
}

# import DIR NAME: print the image reference.
import_image() {
  local dir=$1 name=$2 tar digest
  tar=$dir.tar
  # Fixed owner and times: the same binaries give the same digest.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$dir" -cf "$tar" .
  digest=$(sha256sum "$tar" | cut -c1-16)
  docker import --change 'WORKDIR /' --change 'ENV PATH=/usr/local/bin' "$tar" \
    "$name:$digest" >/dev/null
  echo "$name:$digest"
}

case "${1:-}" in
build)
  build=${2:?usage: $0 build BUILD_DIR}
  [ -x "$build/jobsvc" ] || { echo "compose-images: $build/jobsvc is not built" >&2; exit 1; }
  redis=$(command -v redis-server) || { echo "compose-images: no redis-server" >&2; exit 1; }
  work=$(mktemp -d /tmp/fl-images.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  # The demo upstream (the rate-limited dependency) ships in the same image.
  [ -x "$build/upstream" ] || { echo "compose-images: $build/upstream is not built" >&2; exit 1; }
  rootfs "$work/jobsvc" "$build/jobsvc" "$build/upstream"
  rootfs "$work/redis" "$redis"
  echo "FL_JOBSVC_IMAGE=$(import_image "$work/jobsvc" faultline-demo-jobsvc)"
  echo "FL_REDIS_IMAGE=$(import_image "$work/redis" faultline-demo-redis)"
  ;;
remove)
  shift
  [ $# -eq 0 ] || docker rmi "$@" >/dev/null
  ;;
*)
  echo "usage: $0 build BUILD_DIR | remove REF..." >&2
  exit 2
  ;;
esac
