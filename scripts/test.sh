#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs the whole test suite. The build
# must be free of compiler warnings, and configuring again must rebuild
# nothing (scripts/build.sh --strict); CI runs this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh --strict
ctest --test-dir "${QPLUG_BUILD_DIR:-build}" --output-on-failure -j"$(nproc)" --timeout 300 "$@"
