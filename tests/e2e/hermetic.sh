#!/usr/bin/env bash
# Nothing the tests use lives outside the checkout (tools/check-hermetic.sh).
# First the check must catch planted outside references and reads, static
# and traced, and let clean ones pass; then it runs over this repository:
# every tracked file, and under strace the unit tests and the quick
# end-to-end tests with every process they start.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
command -v strace >/dev/null || fail "strace is missing (bash ci/setup.sh installs it)"
H="python3 $SRC/tools/hermetic.py"
up=..      # spelt this way so that this file itself names no outside path
SYSPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p "$TMP/home"

# ---- static: every kind of outside reference is named ----------------------
repo=$TMP/s/repo
mkdir -p "$repo/sub" "$TMP/s/other"
git init -q "$repo"
printf 'snprintf(b, n, "%%s/%s/shared/x.xsd", src);\n' "$up" > "$repo/up_shared.c"
printf 'cat "$SRC/%s"\n' "$up" > "$repo/up_tail.sh"
printf 'cd %s && make\n' "$up" > "$repo/cd_up.sh"
printf 'x=%s/other/file\n' "$TMP/s" > "$repo/parent_abs.sh"
w=work; printf 'x=/%s/shared/junit\n' "$w" > "$repo/work_abs.sh"
printf 'cat %s/.config/x\n' "~" > "$repo/home.sh"
printf 'cd "$(dirname "$0")/%s/%s"\n' "$up" "$up" > "$repo/sub/too_high.sh"
ln -s "$up/other/file" "$repo/escape_link"
printf 'cd "$(dirname "$0")/%s"\nlocal k = ARGV[1] %s id\n' "$up" "$up" > "$repo/sub/clean.sh"
(cd "$repo" && git add -A)
set +e
$H static "$repo" 2>"$TMP/static.err"
rc=$?
set -e
[ $rc -eq 1 ] || { cat "$TMP/static.err" >&2; fail "static check of planted files: exit $rc, expected 1"; }
for f in up_shared.c:1 up_tail.sh:1 cd_up.sh:1 parent_abs.sh:1 work_abs.sh:1 home.sh:1 \
         sub/too_high.sh:1 escape_link; do
  grep -q "hermetic: $f" "$TMP/static.err" || { cat "$TMP/static.err" >&2; fail "static check missed $f"; }
done
! grep -q 'clean.sh' "$TMP/static.err" || { cat "$TMP/static.err" >&2; fail "static check flagged a clean file"; }
(cd "$repo" && git rm -q -f up_shared.c up_tail.sh cd_up.sh parent_abs.sh work_abs.sh home.sh \
   sub/too_high.sh escape_link)
$H static "$repo" >/dev/null || fail "static check of the clean tree failed"
pass "static check names each planted outside reference, passes the clean tree"

# ---- traced: every kind of outside access is named --------------------------
parent=$TMP/d/parent
repo=$parent/repo
mkdir -p "$repo/sub" "$parent/other"
echo outside > "$parent/beside.txt"
echo outside > "$parent/other/file"
echo inside > "$repo/inside.txt"
ln -s "$up/beside.txt" "$repo/link"
n=0
# traced EXPECT_RC WANT_IN_STDERR CMD...: run CMD in $repo under strace,
# judge the trace, check the verdict.
traced() {
  local want_rc=$1 want=$2 rc
  shift 2
  n=$((n + 1))
  mkdir -p "$TMP/t$n"
  (cd "$repo" && env -i PATH=$SYSPATH HOME="$TMP/home" LANG=C.UTF-8 \
     strace -ff -y -s 4096 -qq --seccomp-bpf -e trace=%file,%process,fchdir -o "$TMP/t$n/t" "$@") \
     >/dev/null 2>&1 || true
  set +e
  $H analyze --root "$repo" --cwd "$repo" --label "case$n" "$TMP/t$n" 2>"$TMP/t$n.err"
  rc=$?
  set -e
  [ $rc -eq "$want_rc" ] || { cat "$TMP/t$n.err" >&2; fail "case $n ($*): exit $rc, expected $want_rc"; }
  [ -z "$want" ] || grep -q -- "$want" "$TMP/t$n.err" || { cat "$TMP/t$n.err" >&2; fail "case $n ($*): '$want' not named"; }
}
traced 1 "$parent/beside.txt: under the checkout's parent" cat "$up/beside.txt"
traced 1 "$parent/other/file: under the checkout's parent" cat "$parent/other/file"
traced 1 "$parent/beside.txt: under the checkout's parent .*(openat, the file opened" cat link
traced 1 "$parent: under the checkout's parent" ls "$up"
traced 1 "$parent/beside.txt: under the checkout's parent .*(access" \
  python3 -c "import os; os.chdir('sub'); os.access('$up/$up/beside.txt', os.R_OK)"
traced 1 "$parent/other/file: under the checkout's parent" \
  sh -c "cd sub && sh -c 'cd $up && exec cat $up/other/file'"
for d in /root /home /opt /srv /mnt; do
  if [ -d "$d" ]; then
    traced 1 "$d/.fl-hermetic-probe: outside the checkout and the system folders" test -e "$d/.fl-hermetic-probe"
    break
  fi
done
# Clean: the checkout, system folders, ancestors above the parent (a server
# that fsyncs /tmp while the checkout lives in /tmp/x/), paths that cannot
# exist here.
traced 0 "" sh -c "cat inside.txt sub/$up/inside.txt; ls /usr / /tmp $TMP; cat /etc/hostname; test -e /nonexistent-fl/x; python3 -c 'import json'"
pass "traced check names each planted outside access ($n cases), passes a clean run"

# ---- this repository --------------------------------------------------------
bash tools/check-hermetic.sh "$BUILD" || fail "something in the repository reaches outside the checkout"
pass "the tracked files and the traced tests stay inside the checkout"
