#!/usr/bin/env bash
# Macro benchmarks: each workload runs natively, then under qplug and under
# Debian's qemu-x86_64 in each plugin configuration, side by side, and the
# script prints the slowdown of each translator relative to native (median
# of N runs), the geometric mean per configuration and the speedup of qplug
# over qemu-x86_64 per cell. See bench/README.md.
#
#   bench/workloads.sh [--runs N] [--only NAMES] [--configs NAMES] [--no-qemu]
#                      [--plugin SPEC] [--size full|small|tiny] [--quick]
#                      [--timeout S] [--plugin-api 1|7] [--markdown] [--list]
#
#   --runs N         timed runs per cell (default 3; 1 with --quick); the median is reported
#   --only NAMES     run only these workloads (comma-separated; see --list)
#   --configs NAMES  plugin configurations (comma-separated; default all, see --list)
#   --no-qemu        do not run qemu-x86_64
#   --plugin SPEC    add the configuration "plugin": "-plugin SPEC" for qplug and
#                    qemu-x86_64 alike; without --configs it is the only one
#   --size S         inputs: full (about 1 s natively, default), small (1/10), tiny (1/100)
#   --quick          --size tiny, one run, 3 start-up samples: a smoke test (CI)
#   --timeout S      a run taking longer than S seconds is stopped (default 120)
#                    and shown as ">R" (at least R times native)
#   --plugin-api V   the example plugins qplug runs: 1 (default, the same .so
#                    as qemu-x86_64) or 7 (their newest-API builds)
#   --markdown       print the tables in Markdown (docs/performance.md)
#   --list           list the workloads and configurations and exit
#
# Environment: QPLUG (default ./build/src/qplug; may carry options, e.g.
# "qplug -d in_asm"), QEMU (default qemu-x86_64 from PATH),
# QPLUG_EXAMPLES_DIR (the example plugins, default build/examples), CC.
# Tables go to stdout, progress to stderr. Exit status 1 when a native or
# qplug run failed or printed something else than the native run (qemu's
# failures are shown, not fatal), 2 on usage errors; timing never fails.
set -u

usage() {
  sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "workloads.sh: $*" >&2
  exit 2
}

[[ -n ${EPOCHREALTIME:-} ]] || die "needs bash 5 (EPOCHREALTIME)"

runs=
only=
configs_opt=
use_qemu=1
plugin=
size=full
quick=0
timeout_s=120
markdown=0
list=0
plugin_api=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs)
      [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || usage
      runs=$2
      shift 2
      ;;
    --only | --configs | --plugin | --size | --timeout | --plugin-api)
      [[ $# -ge 2 ]] || usage
      case $1 in
        --only) only=$2 ;;
        --configs) configs_opt=$2 ;;
        --plugin) plugin=$2 ;;
        --plugin-api)
          [[ $2 =~ ^(1|7)$ ]] || die "--plugin-api takes 1 or 7"
          plugin_api=$2
          ;;
        --size)
          [[ $2 =~ ^(full|small|tiny)$ ]] || die "--size takes full, small or tiny"
          size=$2
          ;;
        --timeout)
          [[ $2 =~ ^[1-9][0-9]*$ ]] || die "--timeout takes whole seconds"
          timeout_s=$2
          ;;
      esac
      shift 2
      ;;
    --no-qemu) use_qemu=0 && shift ;;
    --quick) quick=1 && shift ;;
    --markdown) markdown=1 && shift ;;
    --list) list=1 && shift ;;
    -h | --help) usage ;;
    *)
      echo "workloads.sh: unknown option '$1'" >&2
      usage
      ;;
  esac
done
if [[ $quick == 1 ]]; then
  size=tiny
  runs=${runs:-1}
fi
runs=${runs:-3}
startup_samples=20
[[ $quick == 1 ]] && startup_samples=3
case $size in
  full) div=1 ;;
  small) div=10 ;;
  tiny) div=100 ;;
esac

# ---------------------------------------------------------------------------
# Workloads: NAME and a description; wl_NAME "$@" runs it with "$@" as the
# runner prefix (empty for native). stdout goes to a file that is compared
# with the native run's. Sizes are for --size full; small and tiny divide them.
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

# Plugin configurations: the example plugin and its arguments. qplug and
# qemu-x86_64 7.2 run the same .so, the API v1 build lib<name>_v1.so (7.2 loads
# nothing newer), so each cell compares the two translators on one plugin
# binary; drcov has no v1 build and runs under qplug alone. --plugin-api 7
# runs qplug with the v7 builds instead. Each is checked on /bin/true before
# the runs; a runner that cannot load it skips the configuration with a note.
CONFIGS=(none bb-inline bb-cb insn-inline insn-cb mem-cb drcov)
declare -A CONFIG_DESCRIPTION=(
  [none]="no plugin"
  [bb-inline]="bb, inline=on: inline add per block"
  [bb-cb]="bb: a callback per block"
  [insn-inline]="insn, inline=on: inline add per instruction"
  [insn-cb]="insn: a callback per instruction"
  [mem-cb]="mem, callback=on: a callback per memory access"
  [drcov]="drcov: coverage file (a callback per execution of each block translated before it ran)"
)

if [[ $list == 1 ]]; then
  echo "workloads:"
  for w in "${WORKLOADS[@]}"; do printf '  %-12s %s\n' "$w" "${DESCRIPTION[$w]}"; done
  echo "configurations:"
  for c in "${CONFIGS[@]}"; do printf '  %-12s %s\n' "$c" "${CONFIG_DESCRIPTION[$c]}"; done
  exit 0
fi

# select_names LIST KNOWN... : the comma-separated LIST, each checked against KNOWN.
select_names() {
  local list=$1 kind=$2 n k ok
  shift 2
  IFS=, read -r -a names <<<"$list"
  for n in "${names[@]}"; do
    ok=0
    for k in "$@"; do [[ $n == "$k" ]] && ok=1; done
    [[ $ok == 1 ]] || die "unknown $kind '$n' (try --list)"
  done
}
selected=("${WORKLOADS[@]}")
if [[ -n $only ]]; then
  select_names "$only" workload "${WORKLOADS[@]}"
  selected=("${names[@]}")
fi
configs=("${CONFIGS[@]}")
if [[ -n $configs_opt ]]; then
  select_names "$configs_opt" configuration "${CONFIGS[@]}" plugin
  configs=("${names[@]}")
elif [[ -n $plugin ]]; then
  configs=(plugin)
fi
[[ -n $plugin || " ${configs[*]} " != *" plugin "* ]] || die "configuration 'plugin' needs --plugin SPEC"
# The runs start in a scratch directory: a relative plugin path becomes absolute.
[[ -n $plugin && $plugin != /* ]] && plugin=$PWD/$plugin
[[ -z $plugin || " ${configs[*]} " == *" plugin "* ]] || configs+=(plugin)

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
[[ -x ${qplug[0]} ]] || die "qplug not found at '${qplug[0]}' (set QPLUG)"
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
examples=${QPLUG_EXAMPLES_DIR:-}
if [[ -z $examples ]]; then
  examples=$(cd "$(dirname "${qplug[0]}")/.." && pwd)/examples
  [[ -d $examples ]] || examples=$repo/build/examples
fi
RUNNERS=(qplug)
[[ $use_qemu == 1 ]] && RUNNERS+=(qemu)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qplug-bench.XXXXXX") || exit 2
trap 'rm -rf -- "$tmp"' EXIT

# config_spec CONFIG RUNNER: the -plugin argument in $spec (empty: no plugin).
config_spec() {
  local lib=$examples/lib v1=_v1
  [[ $2 == qplug && $plugin_api == 7 ]] && v1=
  case $1 in
    none) spec= ;;
    bb-inline) spec=${lib}bb$v1.so,inline=on ;;
    bb-cb) spec=${lib}bb$v1.so ;;
    insn-inline) spec=${lib}insn$v1.so,inline=on ;;
    insn-cb) spec=${lib}insn$v1.so ;;
    mem-cb) spec=${lib}mem$v1.so,callback=on ;;
    drcov) spec=${lib}drcov.so,filename=$tmp/coverage.drcov ;;
    plugin) spec=$plugin ;;
  esac
}

# runner_prefix RUNNER CONFIG: the command prefix in the array "prefix".
runner_prefix() {
  case $1 in
    native) prefix=() ;;
    qplug) prefix=("${qplug[@]}") ;;
    qemu) prefix=("${qemu[@]}") ;;
  esac
  if [[ $1 != native ]]; then
    config_spec "$2" "$1"
    [[ -n $spec ]] && prefix+=(-d plugin -D "$tmp/plugin.$1.$2.log" -plugin "$spec")
  fi
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
  die "$1 not found"
}
TRUE_BIN=$(tool true)

log() { echo "$*" >&2; }

# Which runner can run which configuration: each loads the plugin for /bin/true.
declare -A AVAILABLE NOTE
for c in "${configs[@]}"; do
  for r in "${RUNNERS[@]}"; do
    runner_prefix "$r" "$c"
    if "${prefix[@]}" "$TRUE_BIN" >/dev/null 2>"$tmp/probe.err" </dev/null; then
      AVAILABLE[$c,$r]=1
    else
      AVAILABLE[$c,$r]=0
      NOTE[$c,$r]=$(grep -m1 . "$tmp/probe.err")
      log "[$c] $r cannot run this configuration: ${NOTE[$c,$r]}"
    fi
  done
done

# ---------------------------------------------------------------------------
# Inputs, built once
# ---------------------------------------------------------------------------
PYTHON3=$(tool python3)
PERL=$(tool perl)
XZ=$(tool xz)
GZIP=$(tool gzip)
SORT=$(tool sort)
SQLITE3=$(tool sqlite3)
CC=${CC:-$(tool cc)}
is_selected() { [[ " ${selected[*]} " == *" $1 "* ]]; }

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
if is_selected cloop; then
  "$CC" -O2 -o "$tmp/cloop" "$tmp/cloop.c" || die "cannot compile the C loop with $CC"
fi

# 2 MB (full) of deterministic text: lines of words and numbers from an LCG.
gen_text() {
  local words=(the quick brown fox jumps over lazy dog alpha beta gamma delta epsilon zeta eta
    theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega)
  local x=12345 i j line lines=()
  for ((i = 1; i <= 33000 / div; i++)); do
    line=
    for ((j = 0; j < 6; j++)); do
      x=$(((x * 1103515245 + 12345) % 2147483648))
      line+="${words[(x >> 16) % 32]} $(((x >> 3) % 1000)) "
    done
    lines+=("$line$i")
  done
  printf '%s\n' "${lines[@]}"
}
if is_selected xz || is_selected gzip || is_selected sort; then
  log "generating text..."
  gen_text >"$tmp/text.txt"
fi

SQL="PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $((300000 / div)))
  INSERT INTO t(a, b) SELECT (x * 7919) % 100003, printf('row%d', x) FROM c;
CREATE INDEX t_a ON t(a);
SELECT COUNT(*), SUM(a), MAX(b) FROM t;"

PY_LOOP="s = 0
for i in range($((12000000 / div))):
    s += i * i % 7
print(s)"
PERL_LOOP="my \$s = 0; for my \$i (1 .. $((20000000 / div))) { \$s += (\$i * \$i) % 7 } print \"\$s\\n\";"

text16=()
for ((i = 0; i < 16; i++)); do text16+=("$tmp/text.txt"); done

wl_cloop() { "$@" "$tmp/cloop" $((500000000 / div)); }
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

declare -A TIMES   # [workload,config,runner] -> list of microseconds
declare -A STATUS  # [workload,config,runner] -> ok | fail | differs | timeout

# run_cell WORKLOAD CONFIG RUNNER: one timed run, appended to TIMES/STATUS.
run_cell() {
  local w=$1 c=$2 r=$3 k="$1,$2,$3" out t0 t1 status
  case ${STATUS[$k]} in fail | timeout) return ;; esac
  runner_prefix "$r" "$c"
  log "[$w] run $rep/$runs: $r${c:+ ($c)}"
  out=$tmp/$w.$c.$r.out
  t0=${EPOCHREALTIME/[.,]/}
  (cd "$tmp" && "wl_$w" timeout -k 5 "$timeout_s" "${prefix[@]}") >"$out" 2>"$tmp/err" </dev/null
  status=$?
  t1=${EPOCHREALTIME/[.,]/}
  if [[ $status == 124 || $status == 137 ]]; then
    log "[$w] $r ($c) stopped after the ${timeout_s} s timeout"
    STATUS[$k]=timeout
    TIMES[$k]="$((timeout_s * 1000000))"
    return
  fi
  if [[ $status != 0 ]]; then
    log "[$w] $r ($c) failed with exit status $status:"
    head -n 5 "$tmp/err" | sed 's/^/    /' >&2
    STATUS[$k]=fail
    return
  fi
  if [[ $r != native ]] && ! cmp -s "$out" "$tmp/$w.none.native.out"; then
    log "[$w] $r ($c): output differs from native"
    STATUS[$k]=differs
  fi
  TIMES[$k]+=" $((t1 - t0))"
}

for w in "${selected[@]}"; do
  TIMES[$w,none,native]=
  STATUS[$w,none,native]=ok
  for c in "${configs[@]}"; do
    for r in "${RUNNERS[@]}"; do
      TIMES[$w,$c,$r]=
      STATUS[$w,$c,$r]=ok
    done
  done
  for ((rep = 1; rep <= runs; rep++)); do
    # Interleave the runners so that drift affects all of them alike.
    run_cell "$w" none native
    for c in "${configs[@]}"; do
      for r in "${RUNNERS[@]}"; do
        [[ ${AVAILABLE[$c,$r]} == 1 ]] && run_cell "$w" "$c" "$r"
      done
    done
  done
done

# Start-up: median of /bin/true runs, in microseconds.
declare -A STARTUP
startup() {
  local r=$1 c=$2 i t0 t1 samples=()
  runner_prefix "$r" "$c"
  log "[startup] $r${c:+ ($c)}"
  STARTUP[$c,$r]=fail
  for ((i = 0; i < startup_samples; i++)); do
    t0=${EPOCHREALTIME/[.,]/}
    "${prefix[@]}" "$TRUE_BIN" >/dev/null 2>&1 </dev/null || return
    t1=${EPOCHREALTIME/[.,]/}
    samples+=($((t1 - t0)))
  done
  STARTUP[$c,$r]=$(median "${samples[@]}")
}
startup native none
for c in "${configs[@]}"; do
  for r in "${RUNNERS[@]}"; do
    [[ ${AVAILABLE[$c,$r]} == 1 ]] && startup "$r" "$c"
  done
done

# ---------------------------------------------------------------------------
# Report (bench/workloads_report.awk): records on stdin
#   T workload config runner median_us status
#   S config runner median_us|fail
#   N config runner note...
# ---------------------------------------------------------------------------
{
  for w in "${selected[@]}"; do
    for k in "$w,none,native" $(for c in "${configs[@]}"; do for r in "${RUNNERS[@]}"; do
      echo "$w,$c,$r"; done; done); do
      IFS=, read -r _ c r <<<"$k"
      if [[ $r != native && ${AVAILABLE[$c,$r]} != 1 ]]; then
        echo "T $w $c $r - none"
      elif [[ -z ${TIMES[$k]// /} ]]; then
        echo "T $w $c $r - ${STATUS[$k]}"
      else
        # shellcheck disable=SC2086
        echo "T $w $c $r $(median ${TIMES[$k]}) ${STATUS[$k]}"
      fi
    done
  done
  for k in "${!STARTUP[@]}"; do
    IFS=, read -r c r <<<"$k"
    echo "S $c $r ${STARTUP[$k]}"
  done
  for k in "${!NOTE[@]}"; do
    IFS=, read -r c r <<<"$k"
    echo "N $c $r ${NOTE[$k]}"
  done
} >"$tmp/records"

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')
qemu_version=
[[ $use_qemu == 1 ]] && qemu_version=$("${qemu[0]}" --version 2>/dev/null | head -n 1)
awk -v md="$markdown" -v runs="$runs" -v cpu="$cpu" -v qplug="${qplug[*]}" \
  -v qemuver="$qemu_version" -v configs="${configs[*]}" -v runners="${RUNNERS[*]}" \
  -v workloads="${selected[*]}" -v size="$size" -v timeout="$timeout_s" \
  -v date="$(date -u +%Y-%m-%d)" -f "$here/workloads_report.awk" "$tmp/records"

# Exit status: native and qplug runs must succeed with the native output.
bad=0
for k in "${!STATUS[@]}"; do
  [[ $k == *,qemu ]] && continue
  case ${STATUS[$k]} in fail | differs) bad=1 ;; esac
done
for c in "${configs[@]}"; do [[ ${AVAILABLE[$c,qplug]} == 1 ]] || bad=1; done
exit $bad
