#!/usr/bin/env bash
# Macro benchmarks: each workload runs natively, under qplug and under
# Debian's qemu-x86_64, side by side, and the script prints wall-clock times
# (median of N runs) and the slowdown ratios to native. See bench/README.md.
#
#   bench/workloads.sh [--runs N] [--only NAME[,NAME...]] [--no-qemu]
#                      [--plugin SPEC] [--markdown] [--list]
#
#   --runs N       timed runs per workload and runner (default 3); the median
#                  is reported
#   --only NAMES   run only these workloads (comma-separated; see --list)
#   --no-qemu      do not run qemu-x86_64
#   --plugin SPEC  pass "-plugin SPEC" to qplug and to qemu-x86_64
#   --markdown     print the result table in Markdown (docs/performance.md)
#   --list         list the workloads and exit
#
# Environment: QPLUG (default ./build/src/qplug), QEMU (default
# qemu-x86_64 from PATH). QPLUG may carry options ("qplug -d plugin").
# The table goes to stdout, progress to stderr.
set -u

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ -n ${EPOCHREALTIME:-} ]] || {
  echo "workloads.sh: needs bash 5 (EPOCHREALTIME)" >&2
  exit 2
}

runs=3
only=
use_qemu=1
plugin=
markdown=0
list=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs)
      [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || usage
      runs=$2
      shift 2
      ;;
    --only)
      [[ $# -ge 2 ]] || usage
      only=$2
      shift 2
      ;;
    --no-qemu)
      use_qemu=0
      shift
      ;;
    --plugin)
      [[ $# -ge 2 ]] || usage
      plugin=$2
      shift 2
      ;;
    --markdown)
      markdown=1
      shift
      ;;
    --list)
      list=1
      shift
      ;;
    -h | --help) usage ;;
    *)
      echo "workloads.sh: unknown option '$1'" >&2
      usage
      ;;
  esac
done

# ---------------------------------------------------------------------------
# Workloads: NAME and a description; wl_NAME "$@" runs it with "$@" as the
# runner prefix (empty for native). stdout goes to a file that is compared
# with the native run's.
# ---------------------------------------------------------------------------
WORKLOADS=(cloop python perl xz gzip sort sqlite)
declare -A DESCRIPTION=(
  [cloop]="C loop, 500M iterations with a non-inlined call"
  [python]="python3 pure-Python loop, 12M iterations"
  [perl]="perl loop, 20M iterations"
  [xz]="xz -6 -T1 of 2 MB of text"
  [gzip]="gzip -6 of 16 MB of text (2 MB file x 8)"
  [sort]="sort -k3,3 -k2,2n of 32 MB of text (2 MB file x 16), one thread"
  [sqlite]="sqlite3: 300k rows from a recursive CTE, then an index"
)

if [[ $list == 1 ]]; then
  for w in "${WORKLOADS[@]}"; do printf '%-8s %s\n' "$w" "${DESCRIPTION[$w]}"; done
  exit 0
fi

selected=()
if [[ -n $only ]]; then
  IFS=, read -r -a wanted <<<"$only"
  for w in "${wanted[@]}"; do
    [[ -n ${DESCRIPTION[$w]+x} ]] || {
      echo "workloads.sh: unknown workload '$w' (try --list)" >&2
      exit 2
    }
    selected+=("$w")
  done
else
  selected=("${WORKLOADS[@]}")
fi

# ---------------------------------------------------------------------------
# Runners
# ---------------------------------------------------------------------------
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
qplug_string=${QPLUG:-}
if [[ -z $qplug_string ]]; then
  if [[ -x ./build/src/qplug ]]; then
    qplug_string=$PWD/build/src/qplug
  else
    qplug_string=$repo/build/src/qplug
  fi
fi
read -r -a qplug <<<"$qplug_string"
[[ -x ${qplug[0]} ]] || {
  echo "workloads.sh: qplug not found at '${qplug[0]}' (set QPLUG)" >&2
  exit 2
}
qemu=()
if [[ $use_qemu == 1 ]]; then
  q=${QEMU:-$(type -P qemu-x86_64)}
  if [[ -z $q || ! -x $q ]]; then
    echo "workloads.sh: qemu-x86_64 not found; continuing without it (set QEMU)" >&2
    use_qemu=0
  else
    qemu=("$q")
  fi
fi
if [[ -n $plugin ]]; then
  qplug+=(-plugin "$plugin")
  [[ $use_qemu == 1 ]] && qemu+=(-plugin "$plugin")
fi

RUNNERS=(native qplug)
[[ $use_qemu == 1 ]] && RUNNERS+=(qemu)

# runner_prefix NAME: sets the array "prefix" to the runner's command prefix.
runner_prefix() {
  case $1 in
    native) prefix=() ;;
    qplug) prefix=("${qplug[@]}") ;;
    qemu) prefix=("${qemu[@]}") ;;
  esac
}

# Tools by absolute path: a runner is given a file, not a PATH lookup, and
# /usr/bin/python3 is preferred over wrapper scripts (pyenv shims).
tool() {
  local p
  for p in "/usr/bin/$1" "$(type -P "$1")"; do
    [[ -n $p && -x $p ]] && {
      echo "$p"
      return
    }
  done
  echo "workloads.sh: $1 not found" >&2
  exit 2
}
PYTHON3=$(tool python3)
PERL=$(tool perl)
XZ=$(tool xz)
GZIP=$(tool gzip)
SORT=$(tool sort)
SQLITE3=$(tool sqlite3)
CC=${CC:-$(tool cc)}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qplug-bench.XXXXXX") || exit 2
trap 'rm -rf -- "$tmp"' EXIT

log() { echo "$*" >&2; }

# ---------------------------------------------------------------------------
# Inputs, built once
# ---------------------------------------------------------------------------
cat >"$tmp/cloop.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline, noipa)) static unsigned long step(unsigned long x, unsigned long i) {
  return (x ^ (x >> 7)) * 0x9E3779B97F4A7C15ull + i;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 500000000;
  unsigned long x = 1, acc = 0;
  for (long i = 0; i < n; i++) {
    x = step(x, (unsigned long)i);
    if ((x & 0xff) == 0) acc += x >> 32;
  }
  printf("%lu %lu\n", x, acc);
  return 0;
}
EOF
if [[ " ${selected[*]} " == *" cloop "* ]]; then
  "$CC" -O2 -o "$tmp/cloop" "$tmp/cloop.c" || {
    echo "workloads.sh: cannot compile the C loop with $CC" >&2
    exit 2
  }
fi

# 2 MB of deterministic text: lines of words and numbers from an LCG.
gen_text() {
  local words=(the quick brown fox jumps over lazy dog alpha beta gamma delta epsilon zeta eta
    theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega)
  local x=12345 i j line lines=()
  for ((i = 1; i <= 33000; i++)); do
    line=
    for ((j = 0; j < 6; j++)); do
      x=$(((x * 1103515245 + 12345) % 2147483648))
      line+="${words[(x >> 16) % 32]} $(((x >> 3) % 1000)) "
    done
    lines+=("$line$i")
  done
  printf '%s\n' "${lines[@]}"
}
if [[ " ${selected[*]} " == *" xz "* || " ${selected[*]} " == *" gzip "* ||
  " ${selected[*]} " == *" sort "* ]]; then
  log "generating text..."
  gen_text >"$tmp/text.txt"
fi

SQL="PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000)
  INSERT INTO t(a, b) SELECT (x * 7919) % 100003, printf('row%d', x) FROM c;
CREATE INDEX t_a ON t(a);
SELECT COUNT(*), SUM(a), MAX(b) FROM t;"

PY_LOOP='s = 0
for i in range(12000000):
    s += i * i % 7
print(s)'
PERL_LOOP='my $s = 0; for my $i (1 .. 20000000) { $s += ($i * $i) % 7 } print "$s\n";'

text16=()
for ((i = 0; i < 16; i++)); do text16+=("$tmp/text.txt"); done

wl_cloop() { "$@" "$tmp/cloop" 500000000; }
wl_python() { "$@" "$PYTHON3" -I -c "$PY_LOOP"; }
wl_perl() { "$@" "$PERL" -e "$PERL_LOOP"; }
wl_xz() { "$@" "$XZ" -6 -T1 -c "$tmp/text.txt"; }
wl_gzip() { "$@" "$GZIP" -6 -n -c "${text16[@]:0:8}"; }
wl_sort() { LC_ALL=C "$@" "$SORT" --parallel=1 -S 512M -k3,3 -k2,2n "${text16[@]}"; }
wl_sqlite() {
  rm -f "$tmp/bench.db"
  "$@" "$SQLITE3" "$tmp/bench.db" "$SQL"
}

# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------
# Wall clock in microseconds: ${EPOCHREALTIME/[.,]/} (bash 5; no subshell).

# median of integers given as arguments
median() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A TIMES   # [workload,runner] -> list of microseconds
declare -A STATUS  # [workload,runner] -> ok | fail | differs

for w in "${selected[@]}"; do
  for r in "${RUNNERS[@]}"; do
    TIMES[$w,$r]=
    STATUS[$w,$r]=ok
  done
  for ((rep = 1; rep <= runs; rep++)); do
    # Interleave the runners so that drift affects all of them alike.
    for r in "${RUNNERS[@]}"; do
      [[ ${STATUS[$w,$r]} == fail ]] && continue
      runner_prefix "$r"
      log "[$w] run $rep/$runs: $r"
      out=$tmp/$w.$r.out
      t0=${EPOCHREALTIME/[.,]/}
      (cd "$tmp" && "wl_$w" "${prefix[@]}") >"$out" 2>"$tmp/$w.$r.err" </dev/null
      status=$?
      t1=${EPOCHREALTIME/[.,]/}
      if [[ $status != 0 ]]; then
        log "[$w] $r failed with exit status $status:"
        head -n 5 "$tmp/$w.$r.err" | sed 's/^/    /' >&2
        STATUS[$w,$r]=fail
        continue
      fi
      if [[ $r != native ]] && ! cmp -s "$out" "$tmp/$w.native.out"; then
        log "[$w] $r: output differs from native"
        STATUS[$w,$r]=differs
      fi
      TIMES[$w,$r]+=" $((t1 - t0))"
    done
  done
done

# Start-up: median of 20 runs of /bin/true, in microseconds.
declare -A STARTUP
TRUE_BIN=$(tool true)
for r in "${RUNNERS[@]}"; do
  runner_prefix "$r"
  log "[startup] $r"
  samples=()
  STARTUP[$r]=fail
  for ((i = 0; i < 20; i++)); do
    t0=${EPOCHREALTIME/[.,]/}
    "${prefix[@]}" "$TRUE_BIN" >/dev/null 2>&1 </dev/null || continue 2
    t1=${EPOCHREALTIME/[.,]/}
    samples+=($((t1 - t0)))
  done
  STARTUP[$r]=$(median "${samples[@]}")
done

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
# Rows for awk: workload, then per runner "median_us status".
rows=()
for w in "${selected[@]}"; do
  row=$w
  for r in native qplug qemu; do
    if [[ $r == qemu && $use_qemu != 1 ]]; then
      row+=" - none"
    elif [[ -z ${TIMES[$w,$r]// /} ]]; then
      row+=" - fail"
    else
      # shellcheck disable=SC2086
      row+=" $(median ${TIMES[$w,$r]}) ${STATUS[$w,$r]}"
    fi
  done
  rows+=("$row")
done

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')
qemu_version=
[[ $use_qemu == 1 ]] && qemu_version=$("${qemu[0]}" --version 2>/dev/null | head -n 1)
startup_line="native=${STARTUP[native]} qplug=${STARTUP[qplug]} qemu=${STARTUP[qemu]:-none}"

printf '%s\n' "${rows[@]}" | awk -v md="$markdown" -v runs="$runs" -v cpu="$cpu" \
  -v qplug="${qplug[*]}" -v qemu="${qemu[*]:-}" -v qemuver="$qemu_version" \
  -v startup="$startup_line" -v date="$(date -u +%Y-%m-%d)" '
function secs(us) { return us == "-" ? "-" : sprintf("%.3f", us / 1e6) }
function cell(us, st) {
  if (st == "none") return "-"
  if (st == "fail") return "FAIL"
  return secs(us) (st == "differs" ? "!" : "")
}
function ratio(us, st, base) {
  if (st == "none" || st == "fail" || us == "-" || base == "-" || base == 0) return "-"
  return sprintf("%.2fx", us / base)
}
function ms(v) { return v == "fail" ? "FAIL" : (v == "none" ? "-" : sprintf("%.2f", v / 1000)) }
{
  n++
  name[n] = $1
  nat[n] = $2; natst[n] = $3
  qp[n] = $4; qpst[n] = $5
  qe[n] = $6; qest[n] = $7
  if (natst[n] == "ok" && qp[n] != "-" && qpst[n] != "fail") {
    lq += log(qp[n] / nat[n]); cq++
  }
  if (natst[n] == "ok" && qe[n] != "-" && qest[n] != "fail" && qest[n] != "none") {
    le += log(qe[n] / nat[n]); ce++
  }
}
END {
  gq = cq ? sprintf("%.2fx", exp(lq / cq)) : "-"
  ge = ce ? sprintf("%.2fx", exp(le / ce)) : "-"
  split(startup, s, " ")
  for (i in s) { split(s[i], kv, "="); st[kv[1]] = kv[2] }
  if (md) {
    printf "| workload | native (s) | qplug (s) | qemu (s) | qplug/native | qemu/native |\n"
    printf "|---|---:|---:|---:|---:|---:|\n"
    for (i = 1; i <= n; i++)
      printf "| %s | %s | %s | %s | %s | %s |\n", name[i], cell(nat[i], natst[i]),
        cell(qp[i], qpst[i]), cell(qe[i], qest[i]), ratio(qp[i], qpst[i], nat[i]),
        ratio(qe[i], qest[i], nat[i])
    printf "| **geometric mean** | | | | **%s** | **%s** |\n", gq, ge
    printf "| `/bin/true` start-up (ms) | %s | %s | %s | | |\n", ms(st["native"]),
      ms(st["qplug"]), ms(st["qemu"])
    printf "\nMedian of %d runs, %s, %s. qplug: `%s`; qemu: %s.\n", runs, date, cpu, qplug,
      (qemuver != "" ? qemuver : "not run")
  } else {
    printf "# %s, %s, median of %d runs\n", date, cpu, runs
    printf "# qplug: %s\n# qemu:  %s %s\n", qplug, (qemu != "" ? qemu : "not run"), qemuver
    printf "%-10s %10s %10s %10s %13s %12s\n", "workload", "native(s)", "qplug(s)", "qemu(s)",
      "qplug/native", "qemu/native"
    for (i = 1; i <= n; i++)
      printf "%-10s %10s %10s %10s %13s %12s\n", name[i], cell(nat[i], natst[i]),
        cell(qp[i], qpst[i]), cell(qe[i], qest[i]), ratio(qp[i], qpst[i], nat[i]),
        ratio(qe[i], qest[i], nat[i])
    printf "%-10s %10s %10s %10s %13s %12s\n", "geomean", "", "", "", gq, ge
    printf "/bin/true start-up (ms, median of 20): native %s, qplug %s, qemu %s\n",
      ms(st["native"]), ms(st["qplug"]), ms(st["qemu"])
  }
}'
any_differs=0
any_fail=0
for k in "${!STATUS[@]}"; do
  [[ ${STATUS[$k]} == differs ]] && any_differs=1
  [[ ${STATUS[$k]} == fail ]] && any_fail=1
done
[[ $any_differs == 1 ]] && echo "! = output differs from the native run's"
[[ $any_fail == 1 ]] && echo "FAIL = the runner exited with a non-zero status (see stderr)"
exit 0
