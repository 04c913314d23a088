#!/usr/bin/env bash
# Set everything up, then run the shipped scenarios against the demo system
# (examples/jobsvc) twice: with the bugs switched on (faultline must catch
# them) and with them switched off (every invariant must hold). Reports land
# in demo-out/.
set -uo pipefail
cd "$(dirname "$0")/.."

bash ci/setup.sh build || exit 2
mkdir -p demo-out

status=0
for profile in buggy fixed; do
  echo "=== demo: profile=$profile"
  ./build/faultline run scenarios/ --var profile=$profile \
    --out demo-out/$profile --junit demo-out/$profile.junit.xml --events demo-out/$profile.events.jsonl
  rc=$?
  want=0; [ "$profile" = buggy ] && want=1
  if [ $rc -ne $want ]; then
    echo "demo: profile=$profile exited $rc, expected $want" >&2
    status=1
  else
    echo "demo: profile=$profile exited $rc as expected"
  fi
done
echo "reports: demo-out/buggy.junit.xml demo-out/fixed.junit.xml (+ events, service logs in demo-out/*/)"
exit $status
