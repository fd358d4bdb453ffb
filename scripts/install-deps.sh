#!/usr/bin/env bash
# Installs every Debian package qplug builds, tests and benchmarks with.
# Idempotent: skips apt entirely when everything is already present.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config
  libzydis-dev libxbyak-dev libboost-dev doctest-dev libbenchmark-dev libglib2.0-dev
  libcapstone-dev  # qemu_plugin_insn_disas text, as QEMU formats it
  qemu-user
  gdb  # the gdb stub tests (tests/gdb) debug programs under qplug -g
  # programs the end-to-end tests run natively and under qplug
  bash coreutils findutils grep sed gawk python3 perl sqlite3 gzip xz-utils zstd tar file
  golang-go  # a Go test program (node and java are tested when present)
  groff-base  # renders docs/qplug.1 in the install and docs tests
  libdw-dev lcov  # qplug-cov: DWARF line tables, genhtml for --html
)
# Wanted but not required: the qplug-cov HTML test renders genhtml's page in
# headless chromium and skips when it is missing.
optional=(chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
missing_optional=()
for p in "${optional[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing_optional+=("$p")
done
if ((${#missing[@]} + ${#missing_optional[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
fi
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ((${#missing_optional[@]})); then
  echo "install-deps: installing ${missing_optional[*]} (optional)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing_optional[@]}" >/dev/null ||
    echo "install-deps: could not install ${missing_optional[*]}; the tests that need it skip"
fi
