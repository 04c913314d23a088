#!/usr/bin/env bash
# The I/O error library (disk.errors) against real third-party programs:
#   redis-server, appendonly yes:
#     appendfsync always    its log shows the injected ENOSPC and that it
#                           exits on it; restarted, no acknowledged write lost;
#     appendfsync everysec  it refuses writes with MISCONF ... No space left
#                           on device (in faultline's history) and says the
#                           error is solved after the heal;
#   dd (coreutils) and sqlite3, with ENOSPC and with EIO: each program's
#   own message for the injected errno, and successful writes after the heal.
# Needs redis-server and sqlite3 (Debian: redis-server, sqlite3): 77 otherwise.
source "$(dirname "$0")/lib.sh"
cd "$SRC"
for p in redis-server sqlite3 dd; do
  command -v $p >/dev/null || { echo "skip: needs $p" >&2; exit 77; }
done

# --- redis, appendfsync always: exits on the write error ---
mkdir -p "$TMP/aof1"
run_fl run examples/thirdparty/redis-aof-errors.yaml --var dir="$TMP/aof1" --var fsync=always --out "$TMP/r1"
[ $RC -eq 0 ] || { show_output; fail "redis always: exit $RC, expected 0 (no acknowledged write lost)"; }
LOG=$TMP/r1/redis-aof-errors/redis.0.log
grep -q 'Error writing to the AOF file: No space left on device' "$LOG" || { cat "$LOG"; fail "redis log does not show the injected ENOSPC"; }
grep -q "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting" "$LOG" \
  || fail "redis did not exit on the AOF write error"
cat "$TMP/stdout" "$TMP/stderr" | grep -q 'redis.0 (pid [0-9]*) exited with status 1' || fail "faultline did not see redis exit"
pass "redis (appendfsync always): $(grep -m1 'Error writing' "$LOG" | cut -c30-), then exits"

# --- redis, appendfsync everysec: refuses writes with MISCONF ---
mkdir -p "$TMP/aof2"
run_fl run examples/thirdparty/redis-aof-errors.yaml --var dir="$TMP/aof2" --var fsync=everysec --out "$TMP/r2"
[ $RC -eq 0 ] || { show_output; fail "redis everysec: exit $RC, expected 0"; }
EV=$TMP/r2/redis-aof-errors/events.jsonl
n=$(grep -c '"error":"MISCONF Errors writing to the AOF file: No space left on device"' "$EV" || true)
[ "$n" -gt 0 ] || fail "no write refused with MISCONF in the history"
grep -q 'AOF write error looks solved, Redis can write again' "$TMP/r2/redis-aof-errors/redis.0.log" \
  || fail "redis did not recover after the heal"
pass "redis (appendfsync everysec): $n writes refused with MISCONF ... No space left on device, recovered after the heal"

# --- dd and sqlite3 ---
for e in ENOSPC EIO; do
  mkdir -p "$TMP/cs-$e"
  run_fl run examples/thirdparty/coreutils-sqlite-errors.yaml --var dir="$TMP/cs-$e" --var errno=$e --out "$TMP/c-$e"
  [ $RC -eq 0 ] || { show_output; fail "coreutils/sqlite $e: exit $RC"; }
  D=$TMP/c-$e/coreutils-sqlite-errors
  case $e in
    ENOSPC) ddmsg="dd: error writing '$TMP/cs-$e/dd.out': No space left on device"; sqmsg='database or disk is full' ;;
    EIO) ddmsg="dd: error writing '$TMP/cs-$e/dd.out': Input/output error"; sqmsg='disk I/O error' ;;
  esac
  grep -qF "$ddmsg" "$D/dd.0.log" || { cat "$D/dd.0.log"; fail "dd ($e): no '$ddmsg'"; }
  grep -qF "$sqmsg" "$D/sqlite.0.log" || { cat "$D/sqlite.0.log"; fail "sqlite3 ($e): no '$sqmsg'"; }
  # Writes succeed before the fault and again after the heal.
  for s in dd sqlite; do
    python3 - "$D/$s.0.log" <<'PY' || fail "$s ($e): no success both before and after the errors"
import sys
lines = open(sys.argv[1]).read().splitlines()
bad = [i for i, l in enumerate(lines) if not l.startswith('ok ')]
assert bad, 'no error'
assert any(l.startswith('ok ') for l in lines[:bad[0]]), 'no success before'
assert any(l.startswith('ok ') for l in lines[bad[-1]:]), 'no success after the heal'
PY
  done
  pass "dd and sqlite3 ($e): '$ddmsg' / '$sqmsg', and writes succeed after the heal"
done
