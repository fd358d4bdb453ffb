#!/usr/bin/env bash
# compile_fail check: compiles FILE (syntax only) against qplug's public
# headers. A file with "// EXPECT: text" lines must fail to compile and its
# diagnostics must contain every expected text (the rule's message and the
# plugin's name); a file without them must compile.
#   check.sh CXX INCLUDE_DIR FILE [extra compiler flags...]
set -u
cxx=$1 include=$2 file=$3
shift 3
out=$("$cxx" -std=c++20 -fsyntax-only -I"$include" "$@" "$file" 2>&1)
status=$?
mapfile -t expects < <(sed -n 's|^// EXPECT: ||p' "$file")
if ((${#expects[@]} == 0)); then
  ((status == 0)) && exit 0
  echo "$file: expected to compile, but:"; echo "$out" | head -30; exit 1
fi
if ((status == 0)); then
  echo "$file: compiled, but it breaks a rule and must not"; exit 1
fi
for e in "${expects[@]}"; do
  if ! grep -qF -- "$e" <<<"$out"; then
    echo "$file: the diagnostics do not mention: $e"; echo "$out" | head -40; exit 1
  fi
done
exit 0
