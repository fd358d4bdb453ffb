#!/usr/bin/env bash
# Configures and builds qplug (RelWithDebInfo, Ninja), quietly: the compiler's
# output goes to BUILD/build.log, and the terminal shows one progress line.
#
#   scripts/build.sh [--strict] [--what TEXT] [TARGET...]   (default: every target)
#
# TEXT names the targets in the progress line ("qplug and two plugins").
# BUILD is $QPLUG_BUILD_DIR, default ./build. A failed build prints the log's
# errors. Compiler warnings are shown; --strict (scripts/test.sh, so CI) makes
# any warning an error, and then also checks that configuring again without
# a change rebuilds nothing (a generated file rewritten with the same content
# would relink qplug and every tool).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${QPLUG_BUILD_DIR:-build}
strict=0 what=everything
while (($#)); do
  case $1 in
    --strict) strict=1 ;;
    --what) what=$2 && shift ;;
    *) break ;;
  esac
  shift
done
targets=("$@")
mkdir -p "$build"
log=$build/build.log
: >"$log"

configure() {
  # A configure's messages are in the log; its warnings and errors show.
  if ! cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >>"$log" 2>"$build/configure.err"; then
    cat "$build/configure.err" >&2
    echo "build.sh: configuring $build failed (log: $log)" >&2
    exit 1
  fi
  cat "$build/configure.err" >&2
}

# One progress line on a terminal, the output in the log.
build() {
  local start=$SECONDS status=0 args=()
  ((${#targets[@]} == 0)) || args=(--target "${targets[@]}")
  [[ -t 1 ]] && printf 'building %s...' "$what"
  cmake --build "$build" -j"$(nproc)" "${args[@]}" >>"$log" 2>&1 &
  local pid=$!
  if [[ -t 1 ]]; then
    while kill -0 "$pid" 2>/dev/null; do
      local step
      step=$(grep -oE '^\[[0-9]+/[0-9]+\]' "$log" | tail -n 1 || true)
      printf '\r\033[Kbuilding %s... %s' "$what" "$step"
      sleep 1
    done
    printf '\r\033[K'
  fi
  wait "$pid" || status=$?
  if ((status)); then
    # The compiler's errors, not ninja's list of every failed command.
    grep -E -A3 'error:|Error |FAILED:|undefined reference' "$log" | head -n 60 >&2 || true
    echo "build.sh: building $what failed (the whole output: $log)" >&2
    exit 1
  fi
  local warnings
  warnings=$(grep -E 'warning:' "$log" | sort -u || true)
  if [[ -n $warnings ]]; then
    echo "$warnings" >&2
    echo "build.sh: $(wc -l <<<"$warnings") compiler warning(s) building $what (log: $log)" >&2
    ((strict == 0)) || exit 1
  fi
  echo "built $what in $((SECONDS - start)) s"
}

configure
build

if ((strict)); then
  : >"$log"
  configure
  cmake --build "$build" >>"$log" 2>&1
  # What ran besides the glob check: ninja's "[n/m] Building/Linking ..." lines.
  rebuilt=$(grep -E '^\[[0-9]+/[0-9]+\]' "$log" | grep -v 'Re-checking globbed directories' || true)
  if [[ -n $rebuilt ]]; then
    echo "$rebuilt" | head -n 20 >&2
    echo "build.sh: configuring again without a change rebuilt $(wc -l <<<"$rebuilt") target(s)" >&2
    exit 1
  fi
fi
