#!/usr/bin/env bash
# check_regs.sh RUNNER PLUGIN PROGRAM [write]
# Runs reg_values.S under RUNNER with regs_plugin.c and checks every register
# value the plugin read at the marker against what the program set (and
# QEMU's linux-user reports for the rest); with "write", also the plugin's
# writes, which the program checks itself (its exit status).
set -uo pipefail
runner=$1 plugin=$2 program=$3 mode=${4:-read}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}

if [[ $mode == write ]]; then
  # shellcheck disable=SC2086 # RUNNER may carry options
  $runner -d plugin -D "$log" -plugin "$plugin,write=on" "$program" w
else
  # shellcheck disable=SC2086
  $runner -d plugin -D "$log" -plugin "$plugin" "$program"
fi
status=$?
cat "$log"
[[ $status == 0 ]] || fail "the program exited with $status (see reg_values.S)"

declare -A want=(
  [rax]=1122334455667700 [rcx]=1122334455667701 [rdx]=1122334455667702
  [rbx]=1122334455667703 [rbp]=1122334455667705 [rsi]=1122334455667706
  [rdi]=1122334455667707 [r8]=1122334455667708 [r9]=1122334455667709
  [r10]=112233445566770a [r11]=112233445566770b [r12]=112233445566770c
  [r13]=112233445566770d [r14]=112233445566770e [r15]=112233445566770f
  [eflags]=00000ad7 # CF PF AF ZF SF OF, bit 1, and IF as user mode always has it
  [cs]=00000033 [ss]=0000002b [ds]=00000000 [es]=00000000 [fs]=00000000 [gs]=00000000
  [fs_base]=0000123456789000 [gs_base]=0000000000000000 [k_gs_base]=0000000000000000
  [cr0]=0000000080010001 [cr2]=0000000000000000 [cr3]=0000000000000000
  [cr8]=0000000000000000 [efer]=0000000000000500
  [st0]=4000c90fdaa22168c235 [st1]=3fff8000000000000000 # pi, 1.0
  [fctrl]=0000027f [fstat]=00003000 [ftag]=00000fff      # TOP 6, two valid registers
  [fiseg]=00000000 [fioff]=00000000 [foseg]=00000000
  [mxcsr]=00003f80 [orig_rax]=0000000000000027 # getpid
)
# CR4: FSGSBASE, OSFXSR, PAE, and OSXSAVE where the CPU has XSAVE.
if grep -qw xsave /proc/cpuinfo; then want[cr4]=0000000000050220; else want[cr4]=0000000000010220; fi
for n in $(seq 0 15); do
  hex=""
  for i in $(seq 15 -1 0); do hex+=$(printf %02x $((n * 16 + i))); done
  want[xmm$n]=$hex
done

for name in "${!want[@]}"; do
  grep -qx "reg $name ${want[$name]}" "$log" ||
    fail "$name: expected ${want[$name]}, got '$(grep "^reg $name " "$log")'"
done
grep -qx "rip_is_marker yes" "$log" || fail "rip is not the marker's address"
! grep -q "^bad_return" "$log" || fail "read_register failed: $(grep '^bad_return' "$log")"
count=$(grep -c "^reg " "$log")
[[ $count == 67 ]] || fail "$count registers read, expected 67"

if [[ $mode == write ]]; then
  for w in "rbx ok" "r13 ok" "xmm3 ok" "st0 ok" "mxcsr ok" "fs_base ok" "rip fail" "cs fail" \
    "ss ok" "cr0 ok"; do
    grep -qx "write $w" "$log" || fail "expected 'write $w', got '$(grep "^write ${w% *} " "$log")'"
  done
  grep -qx "after_write cr0 0000000080010001" "$log" || fail "cr0 changed"
fi
echo "all ${#want[@]} register values and rip as expected"
