#!/usr/bin/env bash
# Without root a volume cannot be mounted: the run stops before anything
# starts (exit 2), says why and what to use instead (disk.errors), and
# leaves nothing behind. As root the run drops to uid 65534 with setpriv.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
cat >"$TMP/v.yaml" <<'YAML'
name: volume-noroot
duration: 1s
services:
  s:
    command: [sleep, "30"]
    volumes: { spool: { path: "${out}/spool", size: 1m } }
invariants: []
YAML
chmod 755 "$TMP"
as_user=()
if [ "$(id -u)" = 0 ]; then
  command -v setpriv >/dev/null || { echo "skip: needs setpriv (util-linux) to drop root" >&2; exit 77; }
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  mkdir -p "$TMP/out" "$TMP/nstate"; chown 65534 "$TMP/out" "$TMP/nstate"
fi
set +e
FAULTLINE_STATE_DIR="$TMP/nstate" FAULTLINE_GUARD=0 "${as_user[@]}" "$FL" run "$TMP/v.yaml" --out "$TMP/out" >"$TMP/stdout" 2>"$TMP/stderr"
RC=$?
set -e
[ $RC -eq 2 ] || { show_output; fail "exit $RC, expected 2"; }
msg=$(cat "$TMP/stdout" "$TMP/stderr")
for want in "service 's' declares volumes" "needs root" "disk.errors"; do
  grep -qF "$want" <<<"$msg" || { show_output; fail "the error does not say '$want'"; }
done
if grep -F "$TMP" /proc/self/mountinfo; then fail "something was mounted"; fi
ls "$TMP/nstate"/*.journal 2>/dev/null && fail "a journal was left" || true
pass "without root: $(grep -m1 -o "service 's' declares volumes[^;]*" <<<"$msg")"
