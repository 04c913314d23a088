#!/usr/bin/env bash
# Set everything up, then run the shipped scenarios against the demo system
# (examples/jobsvc) twice: with the bugs switched on (faultline must catch
# them) and with them switched off (every invariant must hold). Reports land
# in reports/.
set -uo pipefail
cd "$(dirname "$0")/.."

bash ci/setup.sh build || exit 2
mkdir -p reports

status=0
for profile in buggy fixed; do
  echo "=== demo: profile=$profile"
  ./build/faultline run scenarios/ --var profile=$profile \
    --out reports/$profile --junit reports/$profile.junit.xml --events reports/$profile.events.jsonl
  rc=$?
  want=0; [ "$profile" = buggy ] && want=1
  if [ $rc -ne $want ]; then
    echo "demo: profile=$profile exited $rc, expected $want" >&2
    status=1
  else
    echo "demo: profile=$profile exited $rc as expected"
  fi
done
echo "reports: reports/buggy.junit.xml reports/fixed.junit.xml (+ events, service logs in reports/*/)"
exit $status
