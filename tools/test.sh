#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test, then the fault suite.
#   ENGRAM_CRASH_ITERATIONS=N   kill -9 runs per writer mode inside `swift test` (default 6)
#   ENGRAM_FAULTS_LONG=1        the long fault suite (1,000 kills, 250 power cuts)
# It also builds a host program against a tagged clone of this repository (tools/consumer-check.sh) and
# fuzzes the JSON reader and record decoders for 60 s (tools/fuzz.sh).
# The fault suite needs root for its loop-mounted ext4 (power cuts), tmpfs (full disk) and setpriv
# (permissions) scenarios; without root it prints SKIP with the reason for each.
set -uo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --no-build || exit 1
swift build --build-tests || exit 1
swift build --product engram-faults || exit 1
swift test --skip-build
tests=$?
tools/consumer-check.sh >/dev/null
consumer=$?
.build/debug/engram-faults
faults=$?
tools/fuzz.sh 60  # the JSON reader and record decoders under libFuzzer; a crash fails the test command
fuzz=$?
echo "swift test exit status: $tests; consumer package: $consumer; fuzz: $fuzz; fault suite exit status: $faults" >&2
if [ "$tests" -ne 0 ] || [ "$consumer" -ne 0 ] || [ "$fuzz" -ne 0 ] || [ "$faults" -ne 0 ]; then exit 1; fi
