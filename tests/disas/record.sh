#!/usr/bin/env bash
# record.sh QEMU PLUGIN PROGRAM > qemu-7.2.txt
# Records what qemu-x86_64 prints for every instruction of PROGRAM (run with
# an argument, so that its extension part runs too), sorted by address: the
# reference that test_qemu_disas.cpp and disas.qplug_recorded check qplug
# against. Rerun it whenever disas_prog.S changes.
set -euo pipefail
qemu=$1 plugin=$2 program=$3
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$qemu" -d plugin -D "$log" -plugin "$plugin" "$program" x
echo "# $("$qemu" --version | head -1), libcapstone $(dpkg-query -W -f='${Version}' libcapstone4 2>/dev/null || echo '?'):"
echo "# tests/disas/disas_dump.c on disas_prog.S, recorded by tests/disas/record.sh."
echo "# vaddr, bytes, qemu_plugin_insn_disas text (tab-separated)."
sort "$log"
