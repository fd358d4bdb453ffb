#!/usr/bin/env bash
# regs_vs_qemu_xml.sh RUNNER PLUGIN PROGRAM QEMU
# The register list RUNNER gives plugins against the gdb XML compiled into
# the QEMU binary: Debian's qemu-x86_64 7.2 has no register API (plugin v1),
# but embeds the i386-64bit.xml its later versions build the list from. Names,
# order and sizes (bitsize / 8) of its registers must be the first ones
# regs_plugin.c reads; the one register after them is linux-user's orig_rax,
# which that XML does not describe.
set -uo pipefail
runner=$1 plugin=$2 program=$3 qemu=$4
log=$(mktemp) xml=$(mktemp) ours=$(mktemp)
trap 'rm -f "$log" "$xml" "$ours"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}
# The XML comments out some registers (the segment bases but fs and gs).
strings -n 3 "$qemu" | sed -n '/<feature name="org.gnu.gdb.i386.core">/,/<\/feature>/p' |
  perl -0777 -pe 's/<!--.*?-->//gs' |
  sed -nE 's/.*<reg name="([a-z0-9_]+)" bitsize="([0-9]+)".*/\1 \2/p' |
  awk '{ print $1, $2 / 8 }' >"$xml"
n=$(wc -l <"$xml")
[[ $n -gt 0 ]] || fail "no org.gnu.gdb.i386.core registers found in $qemu"
# shellcheck disable=SC2086 # RUNNER may carry options
$runner -d plugin -D "$log" -plugin "$plugin" "$program" || fail "the run failed"
awk '/^reg / { print $2, length($3) / 2 }' "$log" >"$ours"
diff <(head -n "$n" "$ours") "$xml" || fail "the first $n registers differ from $qemu's XML (<: $runner)"
[[ $(tail -n +"$((n + 1))" "$ours") == "orig_rax 8" ]] || fail "after them: $(tail -n +"$((n + 1))" "$ours")"
echo "the $n registers of $qemu's i386-64bit.xml, in order and size, then orig_rax"
