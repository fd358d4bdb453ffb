#!/usr/bin/env bash
# Self-test of the e2e harness (diff_run.sh, check_run.sh, bad_input.sh),
# independent of qplug: "env" serves as a runner that changes nothing, small
# generated scripts as runners that change stdout, status or files, and
# mock_qplug.sh as a runner with correct bad-input messages.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qplug-selftest.XXXXXX") || exit 2
trap 'rm -rf -- "$tmp"' EXIT

cat >"$tmp/extra_stdout.sh" <<'X'
#!/bin/sh
"$@"; s=$?; echo extra; exit $s
X
cat >"$tmp/bad_status.sh" <<'X'
#!/bin/sh
"$@"; exit 42
X
cat >"$tmp/touch_file.sh" <<'X'
#!/bin/sh
"$@"; s=$?; echo changed >>out.txt; exit $s
X
cat >"$tmp/flip_byte.sh" <<'X'
#!/bin/sh
"$@" | tr 'a' 'b'
X
chmod +x "$tmp"/*.sh

failures=0
# expect STATUS DESCRIPTION COMMAND...: run COMMAND, check its exit status.
expect() {
  local want=$1 what=$2
  shift 2
  "$@" >"$tmp/log" 2>&1
  local got=$?
  if [[ $got == "$want" ]]; then
    echo "ok   $what (exit $got)"
  else
    echo "FAIL $what: exit $got, expected $want; output:"
    sed 's/^/    | /' "$tmp/log"
    failures=$((failures + 1))
  fi
}

D=$here/diff_run.sh
expect 0 "identical runs pass" "$D" env t1 -- echo hello
expect 0 "cwd is the same path in both runs" "$D" env t2 -- pwd
expect 1 "extra stdout is detected" "$D" "$tmp/extra_stdout.sh" t3 -- echo hello
expect 1 "exit status difference is detected" "$D" "$tmp/bad_status.sh" t4 -- true
expect 0 "--expect-status matches" "$D" env t5 --expect-status 3 -- bash -c 'exit 3'
expect 1 "--expect-status mismatch" "$D" env t6 --expect-status 4 -- bash -c 'exit 3'
expect 0 "runner options are split" "$D" "env -u NOPE" t7 -- echo x
expect 0 "--stdin is fed to both" "$D" env t8 --stdin "$here/gen_text.sh" -- md5sum
expect 0 "--files identical" "$D" env t9 --setup 'seq 1 100 > in.txt' --files out.txt \
  -- sort -r in.txt -o out.txt
expect 1 "--files difference is detected" "$D" "$tmp/touch_file.sh" t10 --files out.txt \
  -- bash -c 'echo same > out.txt'
expect 1 "--files missing file is detected" "$D" env t11 --files nothing.txt -- true
expect 1 "binary stdout difference" "$D" "$tmp/flip_byte.sh" t12 \
  -- printf 'a\000b'
expect 0 "stderr ignored by default" "$D" env t13 -- bash -c 'echo $RANDOM >&2'
expect 1 "--compare-stderr" "$D" env t14 --compare-stderr -- bash -c 'echo $RANDOM$RANDOM >&2'
expect 0 "--env reaches both runs" "$D" env t15 --env QTEST_X=1 -- bash -c '[ "$QTEST_X" = 1 ]'
expect 2 "unknown option is a usage error" "$D" env t16 --bogus -- true
expect 2 "missing command is a usage error" "$D" env t17 -- no-such-command-qplug
expect 1 "--timeout kills a hanging run" "$D" "$tmp/bad_status.sh" t18 --timeout 1 \
  -- sleep 30

C=$here/check_run.sh
expect 0 "check_run passes" "$C" env --forbid '^FAIL' -- printf 'ok 1\n'
expect 1 "check_run --forbid" "$C" env --forbid '^FAIL' -- printf 'ok 1\nFAIL 2 x\n'
expect 1 "check_run exit status" "$C" env -- false
expect 1 "check_run --require" "$C" env --require '^# ' -- printf 'ok 1\n'

B=$here/bad_input.sh
expect 0 "bad_input.sh passes with correct messages" "$B" "$here/mock_qplug.sh"
expect 1 "bad_input.sh fails when the runner runs/ignores bad files" "$B" env
expect 1 "bad_input.sh fails on a wrong prefix" "$B" "$tmp/extra_stdout.sh" text
expect 2 "bad_input.sh unknown case" "$B" env no-such-case

if [[ $failures -gt 0 ]]; then
  echo "$failures self-test(s) failed"
  exit 1
fi
echo "all harness self-tests passed"
