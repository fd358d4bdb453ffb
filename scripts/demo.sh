#!/usr/bin/env bash
# The README's first command: build qplug and the two plugins the demo uses,
# then run a real program under it: a shell pipeline running python3 (every
# process is translated, execve followed), with QEMU-style plugins counting
# blocks and instructions and writing drcov coverage, and compare with a native
# run. Then build the other tools the README shows (the other example plugins,
# the static tools, qplug-cov), not the tests.
#
#   scripts/demo.sh [--no-build]     (--no-build: use the build as it is)
#
# The build is $QPLUG_BUILD_DIR, default ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${QPLUG_BUILD_DIR:-build}
if [[ ${1:-} != --no-build ]]; then
  bash scripts/install-deps.sh
  bash scripts/build.sh --what "qplug and the bb and drcov plugins" \
    qplug qplug_example_bb qplug_example_drcov
fi
QPLUG=$build/src/qplug
PLUGINS=$build/examples
out=$(mktemp -d)
# Debian's python3, not a version manager's shim (a shell script that runs a
# dozen programs before python3 itself, each one more process to report).
python=$(command -v /usr/bin/python3 || command -v python3)
script='import hashlib, json; print(json.dumps({"sha256": hashlib.sha256(b"qplug").hexdigest()[:16]}))'

echo "== native"
native=$(bash -c "$python -c '$script' | tr a-f A-F")
echo "$native"

echo "== under qplug, with the bb plugin (inline counters) and drcov"
translated=$($QPLUG -d plugin -D "$out/bb.log" -plugin "$PLUGINS/libbb.so,inline=on" \
  -plugin "$PLUGINS/libdrcov.so,filename=$out/cov-%p.drcov" \
  /bin/bash -c "$python -c '$script' | tr a-f A-F")
echo "$translated"
echo "-- bb plugin: one line per process (bash, python3, tr):"
grep -E "^Total" "$out/bb.log"
echo "-- drcov: one coverage file per process; the one with the most blocks:"
largest=$(ls -S "$out"/*.drcov | head -n 1)
python3 tests/examples/drcov_read.py "$largest" | sort -t' ' -k9 -n | tail -n 6

[ "$native" = "$translated" ] && echo "== outputs match" || { echo "== outputs differ"; exit 1; }
echo "(logs and coverage in $out)"
if [[ ${1:-} != --no-build ]]; then
  bash scripts/build.sh --what "the other example plugins, the static tools and qplug-cov" \
    qplug_examples qplug-bb qplug-insn qplug-mem qplug-drcov qplug-cov-bb qplug-cov
fi
