#!/usr/bin/env bash
# The README's first command: build qplug, then run a real program under it
# (python3 through a shell pipeline, children followed across execve) and show
# that its output matches a native run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
QPLUG=./build/src/qplug
script='import hashlib, json; print(json.dumps({"sha256": hashlib.sha256(b"qplug").hexdigest()[:16]}))'
echo "== native"
native=$(bash -c "python3 -c '$script' | tr a-f A-F")
echo "$native"
echo "== under qplug (bash -> python3 | tr, every process translated)"
translated=$($QPLUG /bin/bash -c "python3 -c '$script' | tr a-f A-F")
echo "$translated"
echo "== under qplug with -strace (first lines)"
$QPLUG -strace /usr/bin/python3 -c 'print("hi")' 2>&1 >/dev/null | head -5
[ "$native" = "$translated" ] && echo "== outputs match" || { echo "== outputs differ"; exit 1; }
