#!/usr/bin/env bash
# Debugs a program under qplug's gdb stub and checks what gdb and the program
# said.
#
#   gdb_test.sh QPLUG "QPLUG OPTIONS" SCRIPT PROGRAM [ARGS...]
#
# Runs `QPLUG -g PORT OPTIONS PROGRAM ARGS` and `gdb --batch` with
# `target remote :PORT` then the commands of SCRIPT. SCRIPT states what must
# happen in comment lines (gdb skips them):
#   # expect: REGEX          some line of gdb's output matches (extended regex)
#   # expect-count: N REGEX  exactly N lines of gdb's output match
#   # expect-output: REGEX   some line of the program's stdout matches
#   # expect-stderr: REGEX   some line of qplug's stderr matches (plugin output)
#   # expect-status: N       qplug's exit status (default 0)
# The port is picked at random among those not listening, and picked again
# if qplug cannot bind it. Nothing waits forever: gdb and qplug run under
# timeouts, and qplug is killed if it outlives gdb by 20 seconds.
set -u
[[ $# -ge 4 ]] || { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
qplug=$1
read -r -a options <<<"$2"
script=$3
shift 3
program=$1
if ! command -v gdb >/dev/null; then
  echo "SKIP: gdb is not installed"
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/qplug-gdb.XXXXXX") || exit 2
trap 'rm -rf -- "$work"' EXIT

listening() {  # port number in /proc/net/tcp's hex, as a local address
  grep -qi "$(printf ':%04X ' "$1")" /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

for attempt in 1 2 3 4 5; do
  port=$(((RANDOM * 32768 + RANDOM) % 30000 + 20000))
  listening "$port" && continue
  timeout 120 "$qplug" -g "$port" "${options[@]}" "$@" </dev/null >"$work/out" 2>"$work/err" &
  pid=$!
  timeout 90 gdb --batch -nx -ex 'set sysroot /' -ex 'set confirm off' \
    -ex "target remote :$port" -x "$script" "$program" </dev/null >"$work/gdb" 2>&1
  gdb_status=$?
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid"
  status=$?
  grep -q "bind: Address already in use" "$work/err" || break
done

echo "--- gdb (status $gdb_status) ---"
cat "$work/gdb"
echo "--- program stdout (qplug status $status) ---"
cat "$work/out"
echo "--- qplug stderr ---"
cat "$work/err"

problems=()
expect_status=0
while IFS= read -r line; do
  case $line in
    "# expect: "*)
      re=${line#"# expect: "}
      grep -q -E -e "$re" "$work/gdb" || problems+=("gdb's output does not match /$re/")
      ;;
    "# expect-count: "*)
      rest=${line#"# expect-count: "}
      n=${rest%% *}
      re=${rest#* }
      got=$(grep -c -E -e "$re" "$work/gdb")
      [[ $got == "$n" ]] || problems+=("$got lines of gdb's output match /$re/, expected $n")
      ;;
    "# expect-output: "*)
      re=${line#"# expect-output: "}
      grep -q -E -e "$re" "$work/out" || problems+=("the program's output does not match /$re/")
      ;;
    "# expect-stderr: "*)
      re=${line#"# expect-stderr: "}
      grep -q -E -e "$re" "$work/err" || problems+=("qplug's stderr does not match /$re/")
      ;;
    "# expect-status: "*) expect_status=${line#"# expect-status: "} ;;
  esac
done <"$script"
[[ $status == "$expect_status" ]] || problems+=("qplug exit status $status, expected $expect_status")
if [[ ${#problems[@]} -gt 0 ]]; then
  for p in "${problems[@]}"; do echo "FAIL: $p"; done
  exit 1
fi
echo "PASS"
