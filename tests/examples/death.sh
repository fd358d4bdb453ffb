#!/usr/bin/env bash
# death.sh QPLUG LIBBB LIBDRCOV PROGRAM HOW [THREADS]: PROGRAM (tests/programs/die.c)
# dies by HOW natively and under QPLUG with the bb and drcov plugins. The exit
# status must be the native one (the same signal), and both plugins' exit
# output must have been written: bb's totals in the -D log, drcov's file with
# its block table.
set -u
qplug=$1 libbb=$2 libdrcov=$3 prog=$4 how=$5 threads=${6:-0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2

run() {  # run CMD...: runs it (killing it with SIGTERM once it is ready for "sleep"); sets $status
  if [[ $how == sleep ]]; then
    "$@" > out.txt 2>err.txt &
    local pid=$!
    for _ in $(seq 200); do grep -q ready out.txt 2>/dev/null && break; sleep 0.05; done
    kill -TERM "$pid"
    wait "$pid"
    status=$?
  else
    ( ulimit -c 0; exec "$@" ) > out.txt 2>err.txt
    status=$?
  fi
}

run "$prog" "$how" "$threads"
native=$status
run "$qplug" -D log.txt -d plugin -plugin "$libbb" -plugin "$libdrcov,filename=cov.drcov" \
  "$prog" "$how" "$threads"
fail=0
if [[ $status != "$native" ]]; then
  echo "FAIL: exit status $status under qplug, $native natively"; fail=1
fi
if ! grep -Eq "^(Total: )?bb's: [1-9][0-9]*, insns: [1-9][0-9]*$" log.txt 2>/dev/null; then
  echo "FAIL: bb's totals are missing from the log"; fail=1
fi
if ! grep -aq "^BB Table: [1-9][0-9]* bbs$" cov.drcov 2>/dev/null; then
  echo "FAIL: drcov's file is missing or has no block table"; fail=1
fi
if grep -q "qplug:" err.txt; then echo "FAIL: qplug complained:"; cat err.txt; fail=1; fi
echo "--- log"; cat log.txt 2>/dev/null
[[ $fail == 0 ]] && echo "PASS: died by $how ($threads threads) with status $status, plugin output written"
exit $fail
