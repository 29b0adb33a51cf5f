#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test.
# ENGRAM_CRASH_ITERATIONS=N raises the number of kill -9 runs per writer mode (default 6).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --no-build
swift build --build-tests
swift test --skip-build 2>&1 | tee .build/test-output.txt
status=${PIPESTATUS[0]}
exit "$status"
