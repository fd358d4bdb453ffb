#!/usr/bin/env bash
# ABI checks of include/qplug/qemu-plugin.h, driven by api-manifest.txt.
#
#   abi_check.sh decls   MANIFEST INCDIR GLIBDIRS VERSION CC CXX
#       The header, preprocessed as C and as C++ for VERSION, declares exactly
#       the names the manifest lists for VERSION (functions, types, enumerators,
#       macros), and exactly the manifest's functions as functions.
#   abi_check.sh reject  INCDIR VERSION CC
#       An unsupported QEMU_PLUGIN_API_VERSION stops compilation with #error.
#   abi_check.sh symbols MANIFEST SYMBOLS
#       SYMBOLS (qemu-plugin-symbols.txt) is sorted, unique, and lists exactly
#       the manifest's host functions of all versions.
#   abi_check.sh plugin  MANIFEST SYMBOLS NM PLUGIN VERSION
#       PLUGIN (a .so) imports only qemu_plugin_* functions listed in SYMBOLS
#       and declared for VERSION, exports qemu_plugin_install and
#       qemu_plugin_version and no other qemu_plugin* name, and has no
#       C++-mangled API symbol.
#   abi_check.sh compile INCDIR GLIBDIRS SRCDIR CC CXX
#       check_api.c / check_api.cpp compile warning-free (-Werror -pedantic)
#       with another compiler (clang) for every version.
#   abi_check.sh run     RUNNER PLUGIN NAME
#       Runs `RUNNER -d plugin -plugin PLUGIN /bin/sh -c 'echo abi-check'` (RUNNER is
#       qemu-x86_64 or qplug, possibly with options) and checks the invariants
#       of the summary line the test plugin NAME (v1..v7, cxx) prints at exit.
#
# GLIBDIRS is a ':'-separated list of glib include directories.
set -euo pipefail
export LC_ALL=C

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# manifest_names MANIFEST VERSION [KIND...]: names declared in VERSION.
manifest_names() {
  local manifest=$1 version=$2
  shift 2
  local kinds=" $* "
  awk -v v="$version" -v kinds="$kinds" '
    /^#/ || NF < 4 { next }
    kinds != "  " && index(kinds, " " $1 " ") == 0 { next }
    $3 <= v && v <= $4 { print $2 }' "$manifest" | sort -u
}

glib_flags() {
  local IFS=:
  local d
  for d in $1; do
    [[ -n $d ]] && printf -- '-I%s\n' "$d"
  done
}

# compare WHAT EXPECTED_FILE ACTUAL_FILE
compare() {
  if ! diff -u --label "expected ($1)" --label "header ($1)" "$2" "$3" >&2; then
    fail "$1 differ (lines with - are missing from the header, + are unexpected)"
  fi
}

cmd_decls() {
  local manifest=$1 inc=$2 glib=$3 version=$4 cc=$5 cxx=$6
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  mapfile -t gflags < <(glib_flags "$glib")
  manifest_names "$manifest" "$version" >"$tmp/expected.names"
  { manifest_names "$manifest" "$version" function plugin | grep -v '^qemu_plugin_version$'; } \
    >"$tmp/expected.functions"
  local lang compiler std
  for lang in c c++; do
    if [[ $lang == c ]]; then compiler=$cc std=-std=c11; else compiler=$cxx std=-std=c++20; fi
    echo '#include <qplug/qemu-plugin.h>' >"$tmp/in.h"
    "$compiler" -x "$lang" "$std" -E -P -DQEMU_PLUGIN_API_VERSION="$version" -I"$inc" \
      "${gflags[@]}" "$tmp/in.h" >"$tmp/pp.$lang"
    "$compiler" -x "$lang" "$std" -E -dM -DQEMU_PLUGIN_API_VERSION="$version" -I"$inc" \
      "${gflags[@]}" "$tmp/in.h" >"$tmp/macros.$lang"
    {
      grep -oE '\b(qemu_plugin_[A-Za-z0-9_]+|QEMU_PLUGIN_[A-Za-z0-9_]+|qemu_info_t)\b' \
        "$tmp/pp.$lang" || true
      sed -nE 's/^#define (qemu_plugin_[A-Za-z0-9_]+|QEMU_PLUGIN_[A-Za-z0-9_]+).*/\1/p' \
        "$tmp/macros.$lang"
    } | sort -u >"$tmp/actual.names"
    compare "v$version $lang names" "$tmp/expected.names" "$tmp/actual.names"
    { grep -oE '\bqemu_plugin_[A-Za-z0-9_]+ *\(' "$tmp/pp.$lang" || true; } |
      sed -E 's/ *\($//' | sort -u >"$tmp/actual.functions"
    compare "v$version $lang functions" "$tmp/expected.functions" "$tmp/actual.functions"
    local want
    want=$(grep -E '^#define QEMU_PLUGIN_VERSION ' "$tmp/macros.$lang" | awk '{print $3}')
    [[ $want == "$version" ]] || fail "v$version $lang: QEMU_PLUGIN_VERSION is '$want'"
  done
  echo "v$version: $(wc -l <"$tmp/expected.names") names," \
    "$(wc -l <"$tmp/expected.functions") functions (incl. qemu_plugin_install) as expected"
}

cmd_reject() {
  local inc=$1 version=$2 cc=$3
  local out
  if out=$(echo '#include <qplug/qemu-plugin.h>' |
    "$cc" -x c -std=c11 -fsyntax-only -DQEMU_PLUGIN_API_VERSION="$version" -I"$inc" - 2>&1); then
    fail "QEMU_PLUGIN_API_VERSION=$version was accepted"
  fi
  grep -q 'QEMU_PLUGIN_API_VERSION must be' <<<"$out" ||
    fail "QEMU_PLUGIN_API_VERSION=$version failed without the #error: $out"
  echo "QEMU_PLUGIN_API_VERSION=$version rejected"
}

cmd_symbols() {
  local manifest=$1 symbols=$2
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  sort -u "$symbols" | cmp -s - "$symbols" || fail "$symbols is not sorted and unique"
  awk '!/^#/ && NF >= 4 && $1 == "function" { print $2 }' "$manifest" | sort -u >"$tmp/expected"
  compare "host symbols" "$tmp/expected" "$symbols"
  echo "$(wc -l <"$symbols") host symbols as expected"
}

cmd_plugin() {
  local manifest=$1 symbols=$2 nm=$3 plugin=$4 version=$5
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  "$nm" -D --undefined-only "$plugin" | awk '{ print $NF }' | sed 's/@.*//' | sort -u \
    >"$tmp/all_imports"
  "$nm" -D --defined-only "$plugin" | awk '$2 != "A" && $2 != "a" { print $NF }' |
    sed 's/@.*//' | sort -u >"$tmp/all_exports"
  local mangled
  mangled=$(cat "$tmp/all_imports" "$tmp/all_exports" | grep 'qemu_plugin' | grep -v '^qemu_plugin' ||
    true)
  [[ -z $mangled ]] || fail "$plugin has mangled API symbols (missing extern \"C\"?): $mangled"
  { grep '^qemu_plugin_' "$tmp/all_imports" || true; } >"$tmp/imports"
  [[ -s $tmp/imports ]] || fail "$plugin imports no qemu_plugin_* function"
  local missing
  missing=$(comm -23 "$tmp/imports" "$symbols")
  [[ -z $missing ]] || fail "$plugin imports functions missing from $symbols: $missing"
  manifest_names "$manifest" "$version" function >"$tmp/declared"
  missing=$(comm -23 "$tmp/imports" "$tmp/declared")
  [[ -z $missing ]] || fail "$plugin imports functions not in API v$version: $missing"
  { grep '^qemu_plugin' "$tmp/all_exports" || true; } >"$tmp/exports"
  printf '%s\n' qemu_plugin_install qemu_plugin_version >"$tmp/expected_exports"
  compare "exports of $(basename "$plugin")" "$tmp/expected_exports" "$tmp/exports"
  echo "$(basename "$plugin"): imports $(wc -l <"$tmp/imports") API functions, all in v$version;" \
    "exports qemu_plugin_install and qemu_plugin_version"
}

cmd_compile() {
  local inc=$1 glib=$2 src=$3 cc=$4 cxx=$5
  mapfile -t gflags < <(glib_flags "$glib")
  local v std
  for v in 1 2 3 4 5 6 7; do
    "$cc" -std=c11 -pedantic -Wall -Wextra -Werror -fsyntax-only -DQEMU_PLUGIN_API_VERSION=$v \
      -I"$inc" "${gflags[@]}" "$src/check_api.c" || fail "$cc, C11, v$v"
    for std in c++17 c++20; do
      "$cxx" -std=$std -pedantic -Wall -Wextra -Werror -fsyntax-only \
        -DQEMU_PLUGIN_API_VERSION=$v -I"$inc" "${gflags[@]}" "$src/check_api.cpp" ||
        fail "$cxx, $std, v$v"
    done
  done
  echo "$cc / $cxx: versions 1-7 compile as C11, C++17 and C++20"
}

# run RUNNER PLUGIN NAME
cmd_run() {
  local runner=$1 plugin=$2 name=$3
  local out status=0
  # shellcheck disable=SC2086 # RUNNER may carry options
  # /bin/echo would not do: it closes stderr before the atexit callbacks run.
  out=$($runner -d plugin -plugin "$plugin" /bin/sh -c 'echo abi-check' 2>&1) || status=$?
  [[ $status == 0 ]] || fail "runner exited with $status: $out"
  grep -qx 'abi-check' <<<"$out" || fail "the guest's output is missing: $out"
  local line
  line=$(grep -E "^abi-$name: " <<<"$out") || fail "no 'abi-$name:' line in: $out"
  echo "$line"
  declare -A f
  local kv
  for kv in ${line#*: }; do
    f[${kv%%=*}]=${kv#*=}
  done
  expect() { # expect KEY OP VALUE
    local v=${f[$1]:-}
    [[ -n $v ]] || fail "abi-$name: no field $1"
    case $2 in
      ==) [[ $v == "$3" ]] ;;
      -gt) ((v > $3)) ;;
    esac || fail "abi-$name: expected $1 $2 $3, got $v"
  }
  case $name in
    v1)
      expect insns -gt 0
      expect tb_cb == "${f[tbs]}"
      expect mem_cb == "${f[mems]}"
      expect syscall_rets == $((f[syscalls] - 1)) # exit_group does not return
      expect vcpus == 1
      expect n_vcpus == -1
      expect with_data -gt 0
      ;;
    v2)
      expect tb_cb == "${f[tbs]}"
      expect mem_cb == "${f[mems]}"
      expect syscall_rets == $((f[syscalls] - 1))
      expect vcpus == 1
      expect num_vcpus == 1
      expect rip_bytes == 8
      expect with_data -gt 0
      ;;
    v3)
      expect tb_cb == "${f[tbs]}"
      expect ran == 1
      expect milestones == $((f[tbs] / 1000))
      expect time_control == null
      expect num_vcpus == 1
      expect with_data -gt 0
      ;;
    v4)
      expect mem_cb == "${f[mems]}"
      expect value_ok == "${f[mem_cb]}"
      expect write_bytes == 10 # "abi-check\n"
      expect write_read == 10
      expect num_vcpus == 1
      ;;
    v5)
      expect insns -gt 0
      expect discons == 0
      expect translate == false
      expect hwaddr == error
      expect rax_read == 8
      expect rax_write == 8
      expect rewrites == 1
      ;;
    v6)
      expect tb_cb -gt 0
      expect filtered == 0
      expect regs == 67
      expect desc_size == 24
      expect rip_write == false
      expect rax_rw == true
      ;;
    v7)
      expect insns -gt 0
      expect tbs -gt 0
      expect syscall_rets == $((f[syscalls] - 1))
      expect vcpus == 1
      expect for_each == 1
      expect bad_userdata == 0
      expect regs == 67
      expect desc_size == 32
      expect readonly == rip
      ;;
    cxx)
      expect tbs -gt 0
      expect insns -gt "${f[tbs]}"
      ;;
    *) fail "unknown plugin name $name" ;;
  esac
  echo "abi-$name: invariants hold"
}

# layout RUNNER PLUGIN VERSION: layout_plugin.c built for VERSION must report
# its checks, none failed.
cmd_layout() {
  local runner=$1 plugin=$2 v=$3
  local out status=0
  # shellcheck disable=SC2086 # RUNNER may carry options
  out=$($runner -d plugin -plugin "$plugin" /bin/sh -c 'echo layout-check' 2>&1) || status=$?
  echo "$out" | grep "^layout-" || true
  [[ $status == 0 ]] || fail "runner exited with $status: $out"
  grep -qx 'layout-check' <<<"$out" || fail "the guest's output is missing: $out"
  grep -Eq "^layout-v$v: checks=[1-9][0-9]* failures=0$" <<<"$out" ||
    fail "layout-v$v: missing summary or failed checks"
  ! grep -q "^layout-v$v: FAIL" <<<"$out" || fail "layout-v$v: failed checks"
  echo "layout-v$v: every check holds"
}

cmd=${1:-}
shift || true
case $cmd in
  decls) cmd_decls "$@" ;;
  reject) cmd_reject "$@" ;;
  symbols) cmd_symbols "$@" ;;
  plugin) cmd_plugin "$@" ;;
  compile) cmd_compile "$@" ;;
  run) cmd_run "$@" ;;
  layout) cmd_layout "$@" ;;
  *)
    echo "usage: $0 decls|reject|symbols|plugin|compile|run|layout ..." >&2
    exit 2
    ;;
esac
