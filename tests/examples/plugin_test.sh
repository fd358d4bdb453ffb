#!/usr/bin/env bash
# Run a program under a runner (qplug or qemu-x86_64) with a plugin and check
# the plugin's output, or compare the numbers two runs report.
#
#   plugin_test.sh check RUNNER PLUGIN_SPEC [options] -- CMD [ARGS...]
#   plugin_test.sh compare EXTRACT_RE RUNNER1 SPEC1 RUNNER2 SPEC2 -- CMD [ARGS...]
#
# RUNNER is one string split on whitespace ("qplug", "qemu-x86_64 -cpu max").
# The run is "RUNNER -d plugin -D LOG -plugin PLUGIN_SPEC CMD ARGS" in a fresh
# temporary work directory (the log goes to a file: some programs, like ls,
# close stderr before the plugins' exit callbacks run).
#
# check options (REs are grep -E patterns; a "line" RE must match a whole
# line of the plugin log unless it uses no anchors):
#   --status N          expected exit status (default 0)
#   --expect RE         some log line matches RE
#   --reject RE         no log line matches RE
#   --count RE N        exactly N log lines match RE
#   --all RE            every non-empty log line matches RE
#   --stdout RE         some line of the program's standard output matches RE
#   --stderr RE         some line of the runner's standard error matches RE
#   --post SNIPPET      bash code run in the work directory after the run, with
#                       $PLUGIN_LOG naming the log; it must succeed (e.g.
#                       inspect a file the plugin wrote)
# compare: both runs must succeed, and the matches of EXTRACT_RE in the two
# logs (grep -oE, in order) must be identical and not empty.
#
# Exit status: 0 pass, 1 fail, 2 usage error. On failure the log is shown.
set -u

usage() {
  sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qplug-plugin-test.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# run_one RUNNER SPEC NAME CMD...: runs in $tmp/NAME.work; sets $status.
run_one() {
  local runner=$1 spec=$2 name=$3
  shift 3
  local -a runner_argv
  read -r -a runner_argv <<<"$runner"
  mkdir -p "$tmp/$name.work"
  (cd "$tmp/$name.work" &&
    exec timeout 300 "${runner_argv[@]}" -d plugin -D "$tmp/$name.log" -plugin "$spec" "$@" \
      </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err")
  status=$?
  touch "$tmp/$name.log"
}

show() {
  local name=$1
  echo "--- plugin log ($(wc -l <"$tmp/$name.log") lines, first 60):"
  head -n 60 "$tmp/$name.log"
  echo "--- stdout (first 20 lines):"
  head -n 20 "$tmp/$name.out"
  echo "--- stderr (first 20 lines):"
  head -n 20 "$tmp/$name.err"
}

do_check() {
  [[ $# -ge 2 ]] || usage
  local runner=$1 spec=$2
  shift 2
  local expect_status=0
  local -a checks=()
  while [[ $# -gt 0 && $1 != -- ]]; do
    case $1 in
      --status) expect_status=$2; shift 2 ;;
      --expect | --reject | --all | --stdout | --stderr | --post)
        checks+=("$1" "$2"); shift 2 ;;
      --count) checks+=("$1" "$2" "$3"); shift 3 ;;
      *) usage ;;
    esac
  done
  [[ $# -ge 2 && $1 == -- ]] || usage
  shift

  run_one "$runner" "$spec" run "$@"
  local log=$tmp/run.log fail=0 i=0
  if [[ $status -ne $expect_status ]]; then
    echo "FAIL: exit status $status, expected $expect_status"
    fail=1
  fi
  while [[ $i -lt ${#checks[@]} ]]; do
    local kind=${checks[i]} re=${checks[i + 1]}
    i=$((i + 2))
    case $kind in
      --expect)
        grep -Eq -- "$re" "$log" || { echo "FAIL: no log line matches: $re"; fail=1; } ;;
      --reject)
        if grep -Eq -- "$re" "$log"; then
          echo "FAIL: a log line matches: $re"
          grep -E -m 3 -- "$re" "$log"
          fail=1
        fi ;;
      --all)
        if grep -v '^$' "$log" | grep -Evq -- "$re"; then
          echo "FAIL: log lines do not match: $re"
          grep -v '^$' "$log" | grep -Ev -m 3 -- "$re"
          fail=1
        fi ;;
      --count)
        local want=${checks[i]} got
        i=$((i + 1))
        got=$(grep -Ec -- "$re" "$log")
        [[ $got -eq $want ]] || { echo "FAIL: $got log lines match $re, expected $want"; fail=1; } ;;
      --stdout)
        grep -Eq -- "$re" "$tmp/run.out" || { echo "FAIL: no stdout line matches: $re"; fail=1; } ;;
      --stderr)
        grep -Eq -- "$re" "$tmp/run.err" || { echo "FAIL: no stderr line matches: $re"; fail=1; } ;;
      --post)
        (cd "$tmp/run.work" && PLUGIN_LOG=$log bash -c "$re") ||
          { echo "FAIL: post check failed: $re"; fail=1; } ;;
    esac
  done
  if [[ $fail -ne 0 ]]; then
    show run
    return 1
  fi
  echo "PASS ($(wc -l <"$log") log lines)"
}

do_compare() {
  [[ $# -ge 7 && $6 == -- ]] || usage
  local re=$1 runner1=$2 spec1=$3 runner2=$4 spec2=$5
  shift 6
  run_one "$runner1" "$spec1" one "$@"
  local status1=$status
  run_one "$runner2" "$spec2" two "$@"
  local status2=$status
  grep -oE -- "$re" "$tmp/one.log" >"$tmp/one.values"
  grep -oE -- "$re" "$tmp/two.log" >"$tmp/two.values"
  local fail=0
  [[ $status1 -eq 0 && $status2 -eq 0 ]] || { echo "FAIL: exit statuses $status1, $status2"; fail=1; }
  [[ -s $tmp/one.values ]] || { echo "FAIL: nothing matches $re"; fail=1; }
  if ! diff -u "$tmp/one.values" "$tmp/two.values" >"$tmp/diff"; then
    echo "FAIL: values differ ($runner1 $spec1 vs $runner2 $spec2):"
    head -n 40 "$tmp/diff"
    fail=1
  fi
  if [[ $fail -ne 0 ]]; then
    echo "=== first run"; show one
    echo "=== second run"; show two
    return 1
  fi
  echo "PASS: $(wc -l <"$tmp/one.values") values equal"
}

[[ $# -ge 1 ]] || usage
mode=$1
shift
case $mode in
  check) do_check "$@" ;;
  compare) do_compare "$@" ;;
  *) usage ;;
esac
