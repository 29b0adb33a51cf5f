#!/usr/bin/env bash
# Fuzzes the JSON reader and record decoding (Sources/engram-fuzz) with libFuzzer for a bounded time.
#   tools/fuzz.sh [SECONDS]     default 60
# Builds engram-fuzz with -sanitize=fuzzer,address -DENGRAM_FUZZ in .build-fuzz/ (sanitizer flags live here,
# not in Package.swift, so the package stays usable as a dependency), seeds it with Tests/Fuzz/seeds and the
# crashes already fixed (Tests/Fuzz/crashes), and runs it. Inputs it discovers go to .build-fuzz/corpus, which
# persists between runs. Exit 1 if it finds a crash or a broken invariant: the input is left in
# Tests/Fuzz/crashes/ (crash-<sha1>), where `swift test` replays it; fix the bug and commit the file.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
scratch=.build-fuzz
crashes=Tests/Fuzz/crashes
mkdir -p "$scratch/corpus" "$crashes"

echo "fuzz: building engram-fuzz (libFuzzer + AddressSanitizer) in $scratch" >&2
build_start=$(date +%s)
swift build --scratch-path "$scratch" --product engram-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DENGRAM_FUZZ >&2 || { echo "fuzz: build failed" >&2; exit 1; }
echo "fuzz: build took $(( $(date +%s) - build_start )) s" >&2
binary="$scratch/debug/engram-fuzz"

before=$(ls "$crashes" | wc -l)
log="$scratch/fuzz.log"
echo "fuzz: running for $seconds s (log: $log)" >&2
# -max_len: a record with a 384-float embedding is about 5 KB. -timeout: one input that takes seconds in a
# debug ASan build is a hang worth reporting. Leak checking is off: the Swift runtime keeps caches for the
# life of the process, which LeakSanitizer cannot tell from leaks. Swift's own backtracer is off so that a
# trap reaches libFuzzer's handler (which saves the input) instead of tripping AddressSanitizer.
ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no "$binary" "$scratch/corpus" Tests/Fuzz/seeds "$crashes" \
    -dict=Tests/Fuzz/json.dict -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$crashes/" -print_final_stats=1 >"$log" 2>&1
status=$?
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
echo "fuzz: exit status $status, ${runs:-?} executions, corpus $(ls "$scratch/corpus" | wc -l) inputs" >&2
if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz: FAILED; new inputs in $crashes: $(( $(ls "$crashes" | wc -l) - before )) (replay: $binary FILE)" >&2
    exit 1
fi
echo "fuzz: no crash in $seconds s" >&2
