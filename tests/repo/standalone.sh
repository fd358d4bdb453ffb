#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The repository stands alone: no tracked file cites design notes or paths
# outside it (a newcomer's clone has neither), and the license is there.
#   tests/repo/standalone.sh REPO_DIR
set -u
repo=${1:?usage: standalone.sh REPO_DIR}
cd "$repo" || exit 2
status=0
[[ -f LICENSE ]] || { echo "FAIL: no LICENSE file"; status=1; }
if [[ -d .git ]] || git rev-parse --git-dir >/dev/null 2>&1; then
  files=$(git ls-files)
else
  files=$(find . -type f -not -path './build*' -not -path './.git/*')
fi
# Patterns are split so that this script does not match itself.
pattern='\.\./'"shared|qemu-abi"'\.md|design\.md|/work/'"(main|shared|build)"
hits=$(echo "$files" | grep -v '^tests/repo/standalone.sh$' | xargs grep -nE "$pattern" 2>/dev/null)
if [[ -n $hits ]]; then
  echo "FAIL: files cite places outside the repository:"
  echo "$hits"
  status=1
fi
[[ $status == 0 ]] && echo "PASS: the repository stands alone"
exit $status
