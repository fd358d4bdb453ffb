#!/bin/bash
# Discontinuity callbacks: discon.sh RUNNER PLUGIN PROGRAM [die]
# Runs PROGRAM (discon_prog.c) under RUNNER with the test plugin
# (discon_plugin.c) and checks that the plugin saw exactly the exception
# discontinuities the program announced ("expect type=2 from=.. to=..": ud2,
# int3, division by zero, three times each, none for the page fault), in
# order, with the pc register reading as from_pc; with "die", the last ud2
# kills the program (status 132) and is reported too. Then the same run with
# the plugin registered for interrupts only must report none.
set -u
ulimit -c 0  # the "die" run dumps no core
runner=$1 plugin=$2 prog=$3 mode=${4:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

want_status=0
[ "$mode" = die ] && want_status=132
$runner -d plugin -D "$dir/log" -plugin "$plugin" "$prog" $mode > "$dir/out"
status=$?
cat "$dir/out"
cat "$dir/log"
[ "$status" = "$want_status" ] || fail "status $status, expected $want_status"
grep '^expect ' "$dir/out" | sed 's/^expect /discon /' > "$dir/want"
grep '^discon type=' "$dir/log" > "$dir/got"
n=$(wc -l < "$dir/want")
[ "$n" -ge 9 ] || fail "the program announced $n discontinuities"
diff "$dir/want" "$dir/got" || fail "discontinuities differ from the expected ones"
grep -qx "discons: $n" "$dir/log" || fail "no 'discons: $n' line at exit"
# Each callback reads the pc as its from_pc.
awk '/^discon type=/ { split($3, f, "="); from = f[2] }
     /^discon rip=/ { split($2, r, "="); if (r[2] != from) { print "rip " r[2] " in the callback for " from; bad = 1 } }
     END { exit bad }' "$dir/log" || fail "registers read in the callback"

$runner -d plugin -D "$dir/log2" -plugin "$plugin,type=interrupt" "$prog" $mode > /dev/null
grep -qx "discons: 0" "$dir/log2" || { cat "$dir/log2"; fail "type=interrupt got discontinuities"; }
echo "ok: $n exception discontinuities"
