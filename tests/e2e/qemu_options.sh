#!/usr/bin/env bash
# qemu-x86_64's options and environment variables under the runner, one case
# per run:
#
#   qemu_options.sh RUNNER CASE [PROGRAM...]
#
# set_env     QEMU_SET_ENV / QEMU_UNSET_ENV reach the program's environment,
#             -E overrides them
# uname       QEMU_UNAME and -r change what `uname -r` prints
# argv0       QEMU_ARGV0 and -0 set the program's argv[0]
# tid         -d tid: one -D file per thread, %d the thread id (PROGRAM: a
#             program starting threads); without %d, one line and status 1
# dfilter     -dfilter keeps in_asm and exec to the pcs of its ranges
#             (PROGRAM: a non-PIE static program with a main)
# cpu         -cpu help lists host and max; -cpu host runs; other models fail
# rejected    options qplug cannot honour fail with one line naming them;
#             their environment variables are a warning
# Exit status: 0 pass, 1 fail.
set -u
read -r -a runner <<<"$1"
case=$2
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# expect_error STATUS LINE CMD...: CMD fails with STATUS and exactly LINE on stderr.
expect_error() {
  local want_status=$1 want=$2
  shift 2
  "$@" > "$dir/out" 2> "$dir/err"
  local status=$?
  cat "$dir/err"
  [ "$status" = "$want_status" ] || fail "$*: status $status, expected $want_status"
  [ "$(cat "$dir/err")" = "$want" ] || fail "$*: stderr is not the line '$want'"
}

case $case in
  set_env)
    out=$(QEMU_SET_ENV=QPLUG_T_A=1,QPLUG_T_B=two QEMU_UNSET_ENV=QPLUG_T_GONE QPLUG_T_GONE=x \
          "${runner[@]}" /usr/bin/env) || fail "status $?"
    grep -qx QPLUG_T_A=1 <<<"$out" || fail "QPLUG_T_A not set"
    grep -qx QPLUG_T_B=two <<<"$out" || fail "QPLUG_T_B not set"
    ! grep -q '^QPLUG_T_GONE=' <<<"$out" || fail "QPLUG_T_GONE not unset"
    out=$(QEMU_SET_ENV=QPLUG_T_A=1 "${runner[@]}" -E QPLUG_T_A=3 /usr/bin/env) || fail "status $?"
    grep -qx QPLUG_T_A=3 <<<"$out" || fail "-E does not override QEMU_SET_ENV"
    ;;
  uname)
    [ "$(QEMU_UNAME=9.8.7-qplug "${runner[@]}" /bin/uname -r)" = 9.8.7-qplug ] || fail "QEMU_UNAME"
    [ "$("${runner[@]}" -r 1.2.3 /bin/uname -r)" = 1.2.3 ] || fail "-r"
    [ "$("${runner[@]}" /bin/uname -r)" = "$(uname -r)" ] || fail "the host's release by default"
    # The other fields stay the host's.
    [ "$(QEMU_UNAME=x "${runner[@]}" /bin/uname -s -n -m)" = "$(uname -s -n -m)" ] || fail "fields"
    ;;
  argv0)
    [ "$(QEMU_ARGV0=from-env "${runner[@]}" /bin/bash -c 'echo $0')" = from-env ] || fail "QEMU_ARGV0"
    [ "$("${runner[@]}" -0 from-option /bin/bash -c 'echo $0')" = from-option ] || fail "-0"
    ;;
  tid)
    "${runner[@]}" -d tid,strace -D "$dir/log.%d" "$@" > /dev/null &
    pid=$!
    wait $pid || fail "status $?"
    ls "$dir"
    files=$(ls "$dir" | grep -c '^log\.[0-9][0-9]*$')
    [ "$files" -ge 3 ] || fail "$files log files, expected one per thread"
    [ -s "$dir/log.$pid" ] || fail "no log of the main thread (log.$pid)"
    # Each thread's own syscalls: its exit(2) in its file, exit_group in the main one's.
    grep -q '^[0-9]* exit_group(' "$dir/log.$pid" || fail "no exit_group in the main thread's log"
    for f in "$dir"/log.*; do
      [ "$f" = "$dir/log.$pid" ] && continue
      grep -q '^[0-9]* exit(' "$f" || fail "$f: no exit of its thread"
      ! grep -q '^[0-9]* exit_group(' "$f" || fail "$f: the main thread's exit_group"
    done
    expect_error 1 "qplug: -d tid: the -D file name must contain '%d' (the thread id)" \
      "${runner[@]}" -d tid -D "$dir/log" /bin/true
    ;;
  dfilter)
    prog=$1
    "${runner[@]}" -d in_asm -D "$dir/all" "$prog" > /dev/null || fail "status $?"
    pc=$(grep -A1 '^IN: main$' "$dir/all" | sed -n 's/^0x0*\([0-9a-f]*\):.*/\1/p' | head -1)
    [ -n "$pc" ] || fail "no block of main in the unfiltered log"
    "${runner[@]}" -d in_asm,exec -dfilter "0x$pc+1" -D "$dir/one" "$prog" > /dev/null ||
      fail "status $?"
    cat "$dir/one"
    blocks=$(grep -c '^IN:' "$dir/one")
    [ "$blocks" -ge 1 ] || fail "the filtered log has no block"
    firsts=$(grep -A1 '^IN:' "$dir/one" | grep -c "^0x0*$pc:")
    [ "$firsts" = "$blocks" ] || fail "a logged block does not start at 0x$pc"
    ! grep '^Trace ' "$dir/one" | grep -vq "/0*$pc/" || fail "an exec line for another pc"
    grep -q '^Trace ' "$dir/one" || fail "no exec line for 0x$pc"
    [ "$(grep -c '^IN:' "$dir/all")" -gt "$blocks" ] || fail "nothing was filtered out"
    QEMU_DFILTER=0..0 "${runner[@]}" -d in_asm -D "$dir/none" "$prog" > /dev/null || fail "status $?"
    ! grep -q '^IN:' "$dir/none" || fail "QEMU_DFILTER=0..0 logged blocks"
    ;;
  cpu)
    out=$("${runner[@]}" -cpu help) || fail "-cpu help: status $?"
    grep -q '^  host ' <<<"$out" && grep -q '^  max ' <<<"$out" || fail "-cpu help: $out"
    "${runner[@]}" -cpu host /bin/true || fail "-cpu host: status $?"
    "${runner[@]}" -cpu max /bin/true || fail "-cpu max: status $?"
    expect_error 1 "qplug: -cpu: CPU model 'qemu64' not supported: guest code runs on the host's CPU ('-cpu help' lists the models)" \
      "${runner[@]}" -cpu qemu64 /bin/true
    ;;
  rejected)
    expect_error 1 "qplug: -B: not supported (guest addresses are host addresses, there is no guest base)" \
      "${runner[@]}" -B 0x10000 /bin/true
    for opt in "-R 1G" "-t 34,34,1" "-tb-size 64" "-seed 1" "-trace foo" "-jitdump" "-p 4096"; do
      read -r -a words <<<"$opt"
      "${runner[@]}" "${words[@]}" /bin/true 2> "$dir/err"
      status=$?
      [ "$status" = 1 ] || fail "$opt: status $status"
      [ "$(wc -l < "$dir/err")" = 1 ] && grep -q "^qplug: ${words[0]}: not supported (" "$dir/err" ||
        { cat "$dir/err"; fail "$opt: not one line naming it"; }
    done
    expect_error 1 "qplug: -d op: not supported (qplug translates without TCG micro ops; '-d help' lists what qplug logs)" \
      "${runner[@]}" -d op /bin/true
    QEMU_RESERVED_VA=1G "${runner[@]}" /bin/echo ran > "$dir/out" 2> "$dir/err" || fail "QEMU_RESERVED_VA: status $?"
    [ "$(cat "$dir/out")" = ran ] || fail "QEMU_RESERVED_VA: the program did not run"
    grep -qx "qplug: warning: QEMU_RESERVED_VA ignored: not supported (.*)" "$dir/err" ||
      { cat "$dir/err"; fail "QEMU_RESERVED_VA: no warning"; }
    ;;
  *)
    echo "unknown case $case"
    exit 2
    ;;
esac
echo "ok: $case"
