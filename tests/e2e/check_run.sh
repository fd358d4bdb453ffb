#!/usr/bin/env bash
# Run a command under the runner only and check its result.
#
#   check_run.sh RUNNER [--expect-status N] [--forbid REGEX] [--require REGEX] -- CMD [ARGS...]
#
# RUNNER is one string, split on whitespace. --forbid fails the test if a
# stdout line matches the extended regex; --require fails it if none does.
# Both may be repeated. Stdout and stderr are echoed.
# Exit status: 0 pass, 1 fail, 2 usage error.
set -u
usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
[[ $# -ge 1 ]] || usage
read -r -a runner <<<"$1"
shift
expect_status=0
forbid=()
require=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --expect-status)
      [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || usage
      expect_status=$2
      shift 2
      ;;
    --forbid)
      [[ $# -ge 2 ]] || usage
      forbid+=("$2")
      shift 2
      ;;
    --require)
      [[ $# -ge 2 ]] || usage
      require+=("$2")
      shift 2
      ;;
    --)
      shift
      break
      ;;
    *) usage ;;
  esac
done
[[ $# -ge 1 ]] || usage
out=$(mktemp "${TMPDIR:-/tmp}/qplug-check.XXXXXX") || exit 2
trap 'rm -f -- "$out"' EXIT

echo "runner: ${runner[*]} $*"
"${runner[@]}" "$@" </dev/null >"$out"
status=$?
cat "$out"
problems=()
[[ $status == "$expect_status" ]] || problems+=("exit status $status, expected $expect_status")
for re in "${forbid[@]}"; do
  if grep -q -E -e "$re" "$out"; then
    problems+=("output matches forbidden /$re/: $(grep -E -e "$re" "$out" | head -n 3 | tr '\n' ' ')")
  fi
done
for re in "${require[@]}"; do
  grep -q -E -e "$re" "$out" || problems+=("output does not match required /$re/")
done
if [[ ${#problems[@]} -gt 0 ]]; then
  for p in "${problems[@]}"; do echo "FAIL: $p"; done
  exit 1
fi
echo "PASS"
