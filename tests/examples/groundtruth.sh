#!/usr/bin/env bash
# groundtruth.sh QPLUG EXAMPLES_DIR STEPCOUNT [--drcov] -- PROGRAM [ARGS...]
#
# The ptrace single-step counter is the ground truth: the bb and insn example
# plugins, in inline and in callback mode, must report exactly the number of
# instructions it counts for PROGRAM (a program whose path does not depend on
# addresses, and that takes no faults: a faulting instruction is counted by
# the plugins, which count before execution, but never retires).
# With --drcov, the drcov plugin's blocks must cover exactly the executed
# instructions: every executed pc lies in a block, and every block starts at an
# executed pc (for a non-PIE program, whose addresses match between the runs).
set -u
qplug=$1 examples=$2 stepcount=$3
shift 3
check_drcov=0
[[ $1 == --drcov ]] && { check_drcov=1; shift; }
[[ $1 == -- ]] && shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

"$stepcount" --output "$work/truth" --pcs "$work/pcs" -- "$@" >/dev/null
status=$?  # the program's own status passes through; 125-127 are stepcount's errors
if ((status >= 125 && status <= 127)); then echo "stepcount failed ($status)"; exit 1; fi
truth=$(awk '/^insns:/ {print $2}' "$work/truth")
echo "single-step count: $truth"

run_plugin() {  # spec pattern: prints the number the pattern captures
  "$qplug" -D "$work/log" -d plugin -plugin "$examples/$1" "${@:3}" >/dev/null 2>&1
  sed -nE "$2" "$work/log" | tail -n 1
}
for mode in "libbb.so,inline=on" "libbb.so,inline=off"; do
  got=$(run_plugin "$mode" 's/^Total: bb.s: [0-9]+, insns: ([0-9]+).*/\1/p' "$@")
  echo "$mode: $got"
  [[ $got == "$truth" ]] || { echo "MISMATCH: $mode reports $got, expected $truth"; fail=1; }
done
for mode in "libinsn.so,inline=on" "libinsn.so,inline=off"; do
  got=$(run_plugin "$mode" 's/^total insns: ([0-9]+).*/\1/p' "$@")
  echo "$mode: $got"
  [[ $got == "$truth" ]] || { echo "MISMATCH: $mode reports $got, expected $truth"; fail=1; }
done

if ((check_drcov)); then
  "$qplug" -plugin "$examples/libdrcov.so,filename=$work/cov" "$@" >/dev/null 2>&1
  python3 - "$work/cov" "$work/pcs" <<'PY' || fail=1
import bisect, re, struct, sys
data = open(sys.argv[1], "rb").read()
header, rest = data.split(b"BB Table: ", 1)
count = int(rest.split(b" ", 1)[0])
records = rest.split(b"\n", 1)[1]
modules = {}
for line in header.decode().splitlines():
    m = re.match(r"\s*(\d+), (0x[0-9a-f]+), (0x[0-9a-f]+), (0x[0-9a-f]+), (.*)", line)
    if m:
        modules[int(m.group(1))] = int(m.group(2), 16)
blocks = []
for i in range(count):
    start, size, mod = struct.unpack_from("<IHH", records, 8 * i)
    blocks.append((modules[mod] + start, size))
pcs = {int(line.split()[0], 16) for line in open(sys.argv[2])}
starts = {b for b, _ in blocks}
ranges = sorted(blocks)
ends = []  # running maximum of block ends, for a bisect lookup
for b, s in ranges:
    ends.append(max(b + s, ends[-1] if ends else 0))
begins = [b for b, _ in ranges]
def covered(pc):
    i = bisect.bisect_right(begins, pc) - 1
    # Blocks may overlap (a branch into the middle of another block starts
    # its own): any block starting at or before pc may contain it.
    while i >= 0 and ends[i] > pc:
        if ranges[i][0] + ranges[i][1] > pc:
            return True
        i -= 1
    return False
missing = [pc for pc in pcs if not covered(pc)]
extra = [b for b in starts if b not in pcs]
print(f"drcov: {len(blocks)} blocks, {len(pcs)} executed pcs, "
      f"{len(missing)} executed pcs outside blocks, {len(extra)} block starts never executed")
sys.exit(1 if missing or extra else 0)
PY
fi
exit $fail
