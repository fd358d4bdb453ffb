#!/usr/bin/env bash
# jit_memory.sh QPLUG PROGRAM: tests/programs/jit_churn.c maps, runs and
# unmaps fresh code in a loop. Run for N and for 10 N rounds under QPLUG, its
# peak resident memory must stay within 1.5 times (the code cache gives dead
# translations' space back), and its output must be the native one.
set -u
qplug=$1 prog=$2 small=20000
fail=0
peak() { sed -n 's/^peak rss \([0-9]*\) KiB$/\1/p' "$1"; }
for rounds in $small $((10 * small)); do
  expected=$("$prog" "$rounds" 0) || { echo "native run failed"; exit 1; }
  got=$("$qplug" "$prog" "$rounds" 0 report 2> "rss.$rounds") || { echo "FAIL: exit status $?"; exit 1; }
  [[ $got == "$expected" ]] || { echo "FAIL: '$got' instead of '$expected'"; fail=1; }
  echo "$rounds rounds: peak rss $(peak "rss.$rounds") KiB"
done
a=$(peak "rss.$small") b=$(peak "rss.$((10 * small))")
rm -f rss.*
if [[ -z $a || -z $b ]] || ((b * 2 > a * 3)); then
  echo "FAIL: 10x the rounds took $b KiB at peak against $a KiB (more than 1.5x)"
  fail=1
fi
[[ $fail == 0 ]] && echo PASS
exit $fail
