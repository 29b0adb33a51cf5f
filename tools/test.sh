#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test, then the fault suite.
#   ENGRAM_CRASH_ITERATIONS=N   kill -9 runs per writer mode inside `swift test` (default 6)
#   ENGRAM_FAULTS_LONG=1        the long fault suite (1,000 kills, 250 power cuts)
# The fault suite needs root for its loop-mounted ext4 (power cuts), tmpfs (full disk) and setpriv
# (permissions) scenarios; without root it prints SKIP with the reason for each.
set -uo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --no-build || exit 1
swift build --build-tests || exit 1
swift build --product engram-faults || exit 1
swift test --skip-build
tests=$?
.build/debug/engram-faults
faults=$?
tools/fuzz.sh 60 || tests=1  # the JSON reader and record decoders under libFuzzer; a crash fails the test command
echo "swift test exit status: $tests; fault suite exit status: $faults" >&2
if [ "$tests" -ne 0 ] || [ "$faults" -ne 0 ]; then exit 1; fi
