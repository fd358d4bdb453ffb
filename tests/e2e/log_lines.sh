#!/usr/bin/env bash
# log_lines.sh QPLUG LIBBB: many processes of one run log into one -D file. A
# bash pipeline of 21 programs (22 processes, each exec'd program and bash
# itself printing bb's report once: a CPU0 line and a Total line) must leave
# 22 whole reports, and an
# -strace run of it one whole record per line, every process's exit_group
# among them; nothing lost, overwritten or torn. A shell that handles three
# signals logs three rt_sigreturn records, each on a line of its own.
set -u
qplug=$1 libbb=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
pipeline="/bin/echo x"
for _ in $(seq 20); do pipeline+=" | /usr/bin/tr x x"; done
fail=0

"$qplug" -D bb.log -d plugin -plugin "$libbb" /bin/bash -c "$pipeline" > out.txt
[[ $(cat out.txt) == x ]] || { echo "FAIL: pipeline output '$(cat out.txt)'"; fail=1; }
lines=$(wc -l < bb.log)
whole=$(grep -Ec "^(CPU0|Total): bb's: [0-9]+, insns: [0-9]+$" bb.log)
totals=$(grep -Ec "^Total: bb's: [0-9]+, insns: [0-9]+$" bb.log)
echo "bb: $lines lines, $whole whole, $totals Total lines (22 expected)"
[[ $lines == "$whole" && $totals == 22 ]] || { echo "FAIL: bb's reports"; cat bb.log; fail=1; }

"$qplug" -D strace.log -strace /bin/bash -c "$pipeline" > /dev/null
bad=$(grep -Evc '^[0-9]+ [a-z_0-9]+\(.*\)( = .*)?$' strace.log)
exits=$(grep -Ec '^[0-9]+ exit_group\(' strace.log)
echo "strace: $(wc -l < strace.log) records, $bad malformed, $exits exit_group records (22 expected)"
[[ $bad == 0 && $exits == 22 ]] || {
  echo "FAIL: strace records"
  grep -Ev '^[0-9]+ [a-z_0-9]+\(.*\)( = .*)?$' strace.log | head
  fail=1
}
# A record is one line: rt_sigreturn, which returns no value, ends its own
# (the pattern above would also take a glued "rt_sigreturn()123 next(...)").
"$qplug" -D sig.log -strace /bin/bash -c 'trap : USR2
  for i in 1 2 3; do kill -USR2 $$; done' > /dev/null
returns=$(grep -Ec '^[0-9]+ rt_sigreturn\(\)$' sig.log)
glued=$(grep -Ec '\)( = [^ ]+)? *[0-9]+ [a-z_0-9]+\(' sig.log)
echo "strace: $returns rt_sigreturn records on lines of their own (3 expected), $glued glued"
[[ $returns == 3 && $glued == 0 ]] || {
  echo "FAIL: rt_sigreturn records"
  grep -E 'rt_sigreturn' sig.log | head
  fail=1
}
[[ $fail == 0 ]] && echo PASS
exit $fail
