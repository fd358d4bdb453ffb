#!/usr/bin/env bash
# repeat_run.sh RUNNER N PROGRAM [ARGS...]: runs PROGRAM natively once and N
# times under RUNNER (which may carry options); every run must exit 0 and print
# exactly the native output. For races and hangs (the test's TIMEOUT bounds it).
set -u
runner=$1 n=$2
shift 2
expected=$("$@") || { echo "native run failed"; exit 1; }
for ((i = 1; i <= n; i++)); do
  # shellcheck disable=SC2086  # the runner may carry options
  got=$($runner "$@") || { echo "run $i: exit status $?"; exit 1; }
  [[ $got == "$expected" ]] || { echo "run $i differs:"; diff <(echo "$expected") <(echo "$got"); exit 1; }
done
echo "$n runs identical to native"
