#!/usr/bin/env bash
# Differential end-to-end test: run a command natively and under a runner
# (qplug, or qemu-x86_64 for validating the harness) and compare the results.
#
#   diff_run.sh RUNNER NAME [options] -- CMD [ARGS...]
#
# RUNNER is one string, split on whitespace: "qplug" or "qplug -no-follow-exec".
# NAME labels the test in messages and in the temp directory name.
#
# Both runs happen in a fresh, empty work directory at the same path
# ($tmp/work, moved aside after each run), so output that mentions the
# current directory compares equal. CMD is resolved to an absolute path first
# (PATH lookup, like the shell), so both runs execute the same file.
#
# Options:
#   --stdin FILE          feed FILE on stdin (default: /dev/null)
#   --expect-status N     both runs must also exit with status N
#   --files F [F...]      after the runs, compare these files (relative to the
#                         work directory) byte for byte; a text file that
#                         differs is shown as a unified diff
#   --compare-stderr      compare stderr too (default: shown, not compared)
#   --setup SNIPPET       bash code run natively in each fresh work directory
#                         before the command (creates its input files)
#   --env NAME=VALUE      set an environment variable for both runs
#   --timeout SECONDS     kill a run after SECONDS (coreutils timeout)
#   --keep                keep the temp directory (also: QPLUG_E2E_KEEP=1)
#
# Exit status: 0 same results, 1 results differ, 2 usage or setup error.
set -u

usage() {
  sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

die() {
  echo "diff_run.sh: $*" >&2
  exit 2
}

[[ $# -ge 2 ]] || usage
runner_string=$1
name=$2
shift 2

stdin_file=/dev/null
expect_status=
files=()
compare_stderr=0
setup=
envs=()
run_timeout=
keep=${QPLUG_E2E_KEEP:-0}

while [[ $# -gt 0 ]]; do
  case $1 in
    --stdin)
      [[ $# -ge 2 ]] || usage
      stdin_file=$2
      shift 2
      ;;
    --expect-status)
      [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || usage
      expect_status=$2
      shift 2
      ;;
    --files)
      shift
      while [[ $# -gt 0 && $1 != --* ]]; do
        files+=("$1")
        shift
      done
      ;;
    --compare-stderr)
      compare_stderr=1
      shift
      ;;
    --setup)
      [[ $# -ge 2 ]] || usage
      setup=$2
      shift 2
      ;;
    --env)
      [[ $# -ge 2 && $2 == *=* ]] || usage
      envs+=("$2")
      shift 2
      ;;
    --timeout)
      [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || usage
      run_timeout=$2
      shift 2
      ;;
    --keep)
      keep=1
      shift
      ;;
    --)
      shift
      break
      ;;
    *)
      echo "diff_run.sh: unknown option '$1'" >&2
      usage
      ;;
  esac
done
[[ $# -ge 1 ]] || usage

read -r -a runner <<<"$runner_string"
[[ ${#runner[@]} -ge 1 ]] || die "empty RUNNER"

# Resolve the command like the shell would, then make it absolute.
cmd=("$@")
if [[ ${cmd[0]} != */* ]]; then
  resolved=$(type -P -- "${cmd[0]}") || die "$name: command not found: ${cmd[0]}"
  cmd[0]=$resolved
fi
[[ ${cmd[0]} == /* ]] || cmd[0]=$PWD/${cmd[0]}
[[ $stdin_file == /* ]] || stdin_file=$PWD/$stdin_file
[[ -r $stdin_file ]] || die "$name: cannot read stdin file $stdin_file"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qplug-e2e.${name//[^A-Za-z0-9_.-]/_}.XXXXXX") ||
  die "mktemp failed"
cleanup() {
  if [[ $keep == 1 ]]; then
    echo "diff_run.sh: kept $tmp" >&2
  else
    rm -rf -- "$tmp"
  fi
}
trap cleanup EXIT

# run_one LABEL ARGV...: run in a fresh $tmp/work, then move it to $tmp/LABEL.
run_one() {
  local label=$1
  shift
  mkdir "$tmp/work" || die "mkdir failed"
  if [[ -n $setup ]]; then
    if ! (cd "$tmp/work" && bash -c "$setup") >"$tmp/$label.setup.log" 2>&1; then
      cat "$tmp/$label.setup.log" >&2
      die "$name: --setup failed before the $label run"
    fi
  fi
  local prefix=()
  [[ ${#envs[@]} -gt 0 ]] && prefix=(env "${envs[@]}")
  [[ -n $run_timeout ]] && prefix=(timeout -k 5 "$run_timeout" "${prefix[@]}")
  (cd "$tmp/work" && exec "${prefix[@]}" "$@") \
    <"$stdin_file" >"$tmp/$label.stdout" 2>"$tmp/$label.stderr"
  local status=$?
  echo "$status" >"$tmp/$label.status"
  mv "$tmp/work" "$tmp/$label"
}

quote() { printf '%q ' "$@"; }

echo "== $name"
echo "native: $(quote "${cmd[@]}")"
run_one native "${cmd[@]}"
echo "runner: $(quote "${runner[@]}" "${cmd[@]}")"
run_one runner "${runner[@]}" "${cmd[@]}"
native_status=$(<"$tmp/native.status")
runner_status=$(<"$tmp/runner.status")

failures=()

is_binary() { ! cmp -s "$1" <(tr -d '\000' <"$1"); }

# show_diff A B LABEL: print how two files differ (unified diff for text).
show_diff() {
  local a=$1 b=$2 label=$3
  echo "--- $label: native vs runner ---"
  if is_binary "$a" || is_binary "$b"; then
    echo "binary contents differ: native $(wc -c <"$a") bytes, runner $(wc -c <"$b") bytes"
    cmp "$a" "$b" 2>&1 | head -n 1
    cmp -l "$a" "$b" 2>/dev/null | head -n 10
  else
    diff -u --label "native $label" --label "runner $label" "$a" "$b" | head -n 200
  fi
}

# show_stream LABEL FILE: print a captured stream, at most 50 lines.
show_stream() {
  if [[ -s $2 ]]; then
    echo "--- $1 ($(wc -l <"$2") lines) ---"
    head -n 50 "$2"
    [[ $(wc -l <"$2") -le 50 ]] || echo "[... truncated]"
  fi
}

if [[ $native_status != "$runner_status" ]]; then
  failures+=("exit status: native $native_status, runner $runner_status")
fi
if [[ -n $expect_status ]]; then
  [[ $native_status == "$expect_status" ]] ||
    failures+=("native exit status $native_status, expected $expect_status")
  [[ $runner_status == "$expect_status" ]] ||
    failures+=("runner exit status $runner_status, expected $expect_status")
fi
[[ $runner_status == 124 && -n $run_timeout ]] && failures+=("runner timed out after ${run_timeout}s")

if ! cmp -s "$tmp/native.stdout" "$tmp/runner.stdout"; then
  failures+=("stdout differs")
  show_diff "$tmp/native.stdout" "$tmp/runner.stdout" stdout
fi
if [[ $compare_stderr == 1 ]] && ! cmp -s "$tmp/native.stderr" "$tmp/runner.stderr"; then
  failures+=("stderr differs")
  show_diff "$tmp/native.stderr" "$tmp/runner.stderr" stderr
fi

for f in "${files[@]}"; do
  a=$tmp/native/$f
  b=$tmp/runner/$f
  if [[ ! -f $a && ! -f $b ]]; then
    failures+=("file $f: produced by neither run")
  elif [[ ! -f $a ]]; then
    failures+=("file $f: not produced natively")
  elif [[ ! -f $b ]]; then
    failures+=("file $f: not produced under the runner")
  elif ! cmp -s "$a" "$b"; then
    failures+=("file $f differs")
    show_diff "$a" "$b" "$f"
  else
    echo "file $f: same ($(wc -c <"$a") bytes)"
  fi
done

show_stream "native stderr" "$tmp/native.stderr"
show_stream "runner stderr" "$tmp/runner.stderr"
echo "exit status: native $native_status, runner $runner_status;" \
  "stdout: $(wc -c <"$tmp/native.stdout") bytes native, $(wc -c <"$tmp/runner.stdout") bytes runner"

if [[ ${#failures[@]} -gt 0 ]]; then
  for f in "${failures[@]}"; do echo "FAIL $name: $f"; done
  exit 1
fi
echo "PASS $name"
exit 0
