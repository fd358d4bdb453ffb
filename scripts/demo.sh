#!/usr/bin/env bash
# The README's first command: build qplug and its example plugins, then run a
# real program under it: a shell pipeline running python3 (every process is
# translated, execve followed), with QEMU-style plugins counting blocks and
# instructions and writing drcov coverage, and compare with a native run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
QPLUG=./build/src/qplug
PLUGINS=./build/examples
out=$(mktemp -d)
script='import hashlib, json; print(json.dumps({"sha256": hashlib.sha256(b"qplug").hexdigest()[:16]}))'

echo "== native"
native=$(bash -c "python3 -c '$script' | tr a-f A-F")
echo "$native"

echo "== under qplug, with the bb plugin (inline counters) and drcov"
translated=$($QPLUG -d plugin -D "$out/bb.log" -plugin "$PLUGINS/libbb.so,inline=on" \
  -plugin "$PLUGINS/libdrcov.so,filename=$out/cov-%p.drcov" \
  /bin/bash -c "python3 -c '$script' | tr a-f A-F")
echo "$translated"
echo "-- bb plugin: one line per process (bash, python3 and whatever its launcher runs, tr):"
grep -E "^Total" "$out/bb.log"
echo "-- drcov: one coverage file per process; the one with the most blocks:"
largest=$(ls -S "$out"/*.drcov | head -n 1)
python3 tests/examples/drcov_read.py "$largest" | sort -t' ' -k9 -n | tail -n 6

[ "$native" = "$translated" ] && echo "== outputs match" || { echo "== outputs differ"; exit 1; }
echo "(logs and coverage in $out)"
