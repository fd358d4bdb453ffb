#!/usr/bin/env bash
# inline_compare.sh QPLUG EXAMPLES_DIR PROGRAM [ARGS...]: every example plugin
# (and its callback modes) runs PROGRAM with callbacks inlined (the default)
# and with QPLUG_NO_INLINE=1 (every callback a call); the plugin output must be
# the same. -U keeps the variable out of the guest's environment, and
# setarch -R the addresses the same, so that both runs take the same path. At least one configuration must really have
# inlined callbacks (QPLUG_STATS), and the QPLUG_NO_INLINE runs none.
set -u
qplug=$1 d=$2
shift 2
specs=(
  "$d/libbb.so" "$d/libbb_v1.so" "$d/libinsn.so" "$d/libinsn_v1.so" "$d/libmem.so,callback=on"
  "$d/libmem_v1.so,callback=on" "$d/libsyscall.so" "$d/libhotblocks.so" "$d/libhotpages.so"
  "$d/libhowvec.so" "$d/libcache.so" "$d/libdrcov.so,filename=/dev/stdout"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0 inlined_total=0
for spec in "${specs[@]}"; do
  QPLUG_STATS=1 setarch -R "$qplug" -U QPLUG_STATS -d plugin -D "$work/a" -plugin "$spec" "$@" > "$work/out.a" 2> "$work/err.a"
  QPLUG_STATS=1 QPLUG_NO_INLINE=1 setarch -R "$qplug" -U QPLUG_STATS -U QPLUG_NO_INLINE -d plugin -D "$work/b" \
    -plugin "$spec" "$@" > "$work/out.b" 2> "$work/err.b"
  # The statistics line is in the log: take it out before comparing.
  inlined=$(sed -n 's/.* \([0-9]*\) callbacks inlined.*/\1/p' "$work/a")
  not_inlined=$(sed -n 's/.* \([0-9]*\) callbacks inlined.*/\1/p' "$work/b")
  sed -i '/^qplug: .* blocks translated/d' "$work/a" "$work/b"
  name=$(basename "${spec%%,*}")
  if cmp -s "$work/a" "$work/b" && cmp -s "$work/out.a" "$work/out.b"; then
    echo "same: $name ($inlined callbacks inlined)"
  else
    echo "FAIL: $name: output differs with and without inlining"
    diff "$work/a" "$work/b" | head -5
    fail=1
  fi
  [[ $not_inlined == 0 ]] || { echo "FAIL: $name: $not_inlined inlined under QPLUG_NO_INLINE=1"; fail=1; }
  inlined_total=$((inlined_total + ${inlined:-0}))
done
((inlined_total > 0)) || { echo "FAIL: nothing was inlined"; fail=1; }
[[ $fail == 0 ]] && echo PASS
exit $fail
