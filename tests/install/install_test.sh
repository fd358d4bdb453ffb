#!/usr/bin/env bash
# Installs a built qplug tree into a temporary prefix and uses it the way a
# plugin author would (ctest label "install"):
#
#   install_test.sh BUILD_DIR SOURCE_DIR CMAKE GENERATOR LIBDIR CC CXX
#
#  1. cmake --install BUILD_DIR --prefix $tmp/prefix puts every file where
#     cmake/install.cmake says (LIBDIR is the build's CMAKE_INSTALL_LIBDIR);
#  2. examples/out-of-tree builds with CMake (find_package(qplug)) and with
#     make (pkg-config), each giving libcount.so and libcount_v1.so;
#  3. each of those runs under the INSTALLED qplug on /bin/ls, in one run with
#     the installed libinsn.so and libbb.so, and must report the same counts;
#  4. the installed example plugins run from the installed plugin directory;
#  5. tests/install/consumer checks the rest of the CMake package (C++ plugin,
#     API_VERSION, qplug::qplug, version check, a bad API_VERSION), also after
#     the prefix is moved (the package is relocatable);
#  6. a DESTDIR install writes qplug.pc with the final prefix;
#  7. the man page is installed and renders without warnings.
# Set QPLUG_INSTALL_TEST_KEEP=1 to keep the temporary directory.
set -euo pipefail

if (($# != 7)); then
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
build=$1 src=$2 cmake=$3 generator=$4 libdir=$5 cc=$6 cxx=$7

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qplug-install.XXXXXX")
if [[ ${QPLUG_INSTALL_TEST_KEEP:-} == 1 ]]; then
  echo "install_test: keeping $tmp"
else
  trap 'rm -rf -- "$tmp"' EXIT
fi
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
die() {
  echo "FAIL: $*" >&2
  exit 1
}
ok() { echo "ok: $*"; }

# --- 1. install -----------------------------------------------------------
prefix=$tmp/prefix
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  {
    cat "$tmp/install.log" >&2
    die "cmake --install failed"
  }
plugindir=$prefix/$libdir/qplug/plugins
for f in bin/qplug include/qplug/qemu-plugin.h "$libdir/cmake/qplug/qplugConfig.cmake" \
  "$libdir/cmake/qplug/qplugConfigVersion.cmake" "$libdir/pkgconfig/qplug.pc" \
  share/man/man1/qplug.1 share/doc/qplug/user-guide.md share/doc/qplug/out-of-tree/count.c \
  "$libdir/qplug/plugins/libbb.so" "$libdir/qplug/plugins/libinsn.so" \
  "$libdir/qplug/plugins/libbb_v1.so"; do
  [[ -e $prefix/$f ]] || fail "not installed: $f"
done
[[ -x $prefix/bin/qplug ]] || die "$prefix/bin/qplug is not executable"
n=$(find "$plugindir" -name 'lib*.so' | wc -l)
((n >= 14)) || fail "only $n example plugins in $plugindir"
ok "installed into $prefix ($n example plugins)"
Q=$prefix/bin/qplug

export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
[[ $(pkg-config --variable=plugindir qplug) == "$plugindir" ]] ||
  fail "pkg-config plugindir: $(pkg-config --variable=plugindir qplug), want $plugindir"
cflags=$(pkg-config --cflags qplug)
[[ $cflags == *"-I$prefix/include "* && $cflags == *glib-2.0* ]] ||
  fail "pkg-config --cflags qplug: $cflags"

# --- 2. the out-of-tree template, both ways -------------------------------
cp -r "$src/examples/out-of-tree" "$tmp/oot-cmake"
cp -r "$src/examples/out-of-tree" "$tmp/oot-make"
rm -rf "$tmp/oot-cmake/build" "$tmp/oot-make"/*.so
"$cmake" -S "$tmp/oot-cmake" -B "$tmp/oot-cmake/build" -G "$generator" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/oot-cmake.log" 2>&1 &&
  "$cmake" --build "$tmp/oot-cmake/build" >>"$tmp/oot-cmake.log" 2>&1 ||
  {
    cat "$tmp/oot-cmake.log" >&2
    die "examples/out-of-tree: CMake build failed"
  }
make -C "$tmp/oot-make" CC="$cc" >"$tmp/oot-make.log" 2>&1 ||
  {
    cat "$tmp/oot-make.log" >&2
    die "examples/out-of-tree: make build failed"
  }
ok "examples/out-of-tree built with CMake and with make"

# --- 3. the built plugins under the installed qplug -----------------------
# count_of FILE REGEX: the first number captured by REGEX's group in FILE.
count_of() { sed -nE "s/$2/\\1/p" "$1" | head -1; }
run=0
for lib in "$tmp"/oot-cmake/build/libcount.so "$tmp"/oot-cmake/build/libcount_v1.so \
  "$tmp"/oot-make/libcount.so "$tmp"/oot-make/libcount_v1.so; do
  run=$((run + 1))
  log=$tmp/run$run.log
  # One run, three plugins: every count comes from the same execution.
  if ! "$Q" -D "$log" -d plugin -plugin "$lib" -plugin "$plugindir/libinsn.so" \
    -plugin "$plugindir/libbb.so" /bin/ls -l /usr >/dev/null 2>"$tmp/run$run.err"; then
    fail "$lib: qplug failed: $(cat "$tmp/run$run.err")"
    continue
  fi
  blocks=$(count_of "$log" '^blocks: ([0-9]+), insns: [0-9]+$')
  insns=$(count_of "$log" '^blocks: [0-9]+, insns: ([0-9]+)$')
  insn_total=$(count_of "$log" '^total insns: ([0-9]+)$')
  bb_blocks=$(count_of "$log" "^Total: bb's: ([0-9]+), insns: [0-9]+$")
  if [[ -z $blocks || -z $insns ]] || ((insns == 0 || blocks == 0)); then
    fail "$lib: no 'blocks: N, insns: M' with positive counts in $(cat "$log")"
  elif [[ $insns != "$insn_total" || $blocks != "$bb_blocks" ]]; then
    fail "$lib: blocks $blocks insns $insns, but libbb: $bb_blocks blocks, libinsn: $insn_total"
  else
    ok "$lib: $blocks blocks, $insns insns (= libbb, libinsn)"
  fi
done
# Arguments: blocks=off, and a bad argument stops qplug before the program.
"$Q" -d plugin -plugin "$tmp/oot-make/libcount.so,blocks=off" /bin/true >/dev/null \
  2>"$tmp/off.log" || true
grep -qE '^insns: [1-9][0-9]*$' "$tmp/off.log" || fail "blocks=off: $(cat "$tmp/off.log")"
status=0
"$Q" -plugin "$tmp/oot-make/libcount.so,colour=on" /bin/true 2>"$tmp/bad.log" || status=$?
((status == 1)) && grep -q "unknown argument 'colour=on'" "$tmp/bad.log" ||
  fail "bad plugin argument: status $status, $(cat "$tmp/bad.log")"
# The v1 build is a QEMU 7.2 plugin too.
if command -v qemu-x86_64 >/dev/null; then
  qemu-x86_64 -D "$tmp/qemu.log" -d plugin -plugin "$tmp/oot-make/libcount_v1.so" /bin/true
  grep -qE '^blocks: [1-9][0-9]*, insns: [1-9][0-9]*$' "$tmp/qemu.log" ||
    fail "libcount_v1.so under qemu-x86_64: $(cat "$tmp/qemu.log")"
  ok "libcount_v1.so runs under qemu-x86_64 too"
fi

# --- 4. installed example plugins from the installed directory -------------
for spec in libbb.so,inline=on libbb_v1.so; do
  "$Q" -d plugin -plugin "$plugindir/$spec" /bin/true >/dev/null 2>"$tmp/bb.log" ||
    fail "$spec: $(cat "$tmp/bb.log")"
  grep -qE "^(Total: )?bb's: [1-9][0-9]*, insns: [1-9][0-9]*$" "$tmp/bb.log" ||
    fail "installed $spec: $(cat "$tmp/bb.log")"
done
(cd "$tmp" && "$Q" -plugin "$plugindir/libdrcov.so,filename=cov.drcov" /bin/true) ||
  fail "installed libdrcov.so"
head -1 "$tmp/cov.drcov" 2>/dev/null | grep -q '^DRCOV VERSION: 2$' || fail "no drcov file"
ok "installed example plugins run from $plugindir"

# --- 5. the CMake package in detail, then moved -----------------------------
consumer() { # consumer BUILD_DIR PREFIX [CMAKE_ARGS...]
  local dir=$1 pfx=$2
  shift 2
  "$cmake" -S "$src/tests/install/consumer" -B "$dir" -G "$generator" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$pfx" "$@" >"$dir.log" 2>&1
}
check_consumer() { # check_consumer BUILD_DIR
  if ! "$cmake" --build "$1" >>"$1.log" 2>&1; then
    cat "$1.log" >&2
    fail "consumer build in $1"
    return
  fi
  [[ -e $1/libcxxcount.so ]] || fail "qplug_add_plugin(cxxcount) did not give libcxxcount.so"
  grep -qE '^cxxcount: v3 tbs=[1-9][0-9]*$' "$1/run.log" ||
    fail "consumer run.log: $(cat "$1/run.log" 2>&1)"
  # The static plugin's counts equal libbb.so's in the same run.
  local static so
  static=$(sed -nE 's/^blocks ([0-9]+), insns ([0-9]+)$/\1 \2/p' "$1/tool.log")
  so=$(sed -nE "s/^Total: bb's: ([0-9]+), insns: ([0-9]+)$/\1 \2/p" "$1/tool.log")
  [[ -n $static && $static == "$so" && $static != "0 0" ]] ||
    fail "qplug_add_tool(bbcount): static '$static' vs libbb.so '$so': $(cat "$1/tool.log" 2>&1)"
}
if consumer "$tmp/consumer" "$prefix"; then check_consumer "$tmp/consumer"; else
  cat "$tmp/consumer.log" >&2
  fail "consumer configure"
fi
if consumer "$tmp/consumer-bad" "$prefix" -DQPLUG_BAD_API_VERSION=ON; then
  fail "qplug_add_plugin(... API_VERSION 8) was accepted"
else
  grep -q 'API_VERSION must be 1 to 7' "$tmp/consumer-bad.log" ||
    fail "API_VERSION 8: unexpected error: $(cat "$tmp/consumer-bad.log")"
fi
mv "$prefix" "$tmp/moved"
if consumer "$tmp/consumer-moved" "$tmp/moved"; then check_consumer "$tmp/consumer-moved"; else
  cat "$tmp/consumer-moved.log" >&2
  fail "consumer configure against the moved prefix"
fi
mv "$tmp/moved" "$prefix"
ok "CMake package: C++ plugin, API_VERSION, qplug::qplug, qplug_add_tool (static C++ plugin = libbb.so), version check, relocatable"

# --- 6. staged install ----------------------------------------------------
DESTDIR=$tmp/stage "$cmake" --install "$build" --prefix /opt/qplug-test >/dev/null 2>&1 ||
  fail "DESTDIR install"
grep -qx 'prefix=/opt/qplug-test' "$tmp/stage/opt/qplug-test/$libdir/pkgconfig/qplug.pc" ||
  fail "DESTDIR install: qplug.pc does not name the final prefix"

# --- 7. the man page ------------------------------------------------------
man_page=$prefix/share/man/man1/qplug.1
if command -v groff >/dev/null; then
  groff -man -ww -z "$man_page" 2>"$tmp/groff.err" || fail "groff failed on qplug.1"
  [[ ! -s $tmp/groff.err ]] || fail "groff warnings on qplug.1: $(cat "$tmp/groff.err")"
  groff -man -Tutf8 -P-cbou "$man_page" 2>/dev/null | grep -q 'SYNOPSIS' || fail "qplug.1 does not render"
elif command -v man >/dev/null; then
  MANPAGER=cat man -l "$man_page" | grep -q 'SYNOPSIS' || fail "man -l qplug.1 does not render"
else
  fail "neither groff nor man is installed (scripts/install-deps.sh installs groff-base)"
fi

if ((failures)); then
  echo "install_test: $failures failure(s); rerun with QPLUG_INSTALL_TEST_KEEP=1" >&2
  exit 1
fi
echo "install_test: all checks passed"
