#!/usr/bin/env bash
# Proves Engram builds as a dependency pinned *by version*, the way a host program adds it: SwiftPM refuses
# `unsafeFlags` in such a dependency, and a host program must see the store's API through `import Engram` alone.
#
# Clones this repository (its committed HEAD) into a temporary directory, tags the clone 1.0.0, creates a consumer
# package that depends on it with `.package(url: "file://…", from: "1.0.0")`, builds it and runs a small host
# program (open, save, search, close). Exit 0 when all of that works.
#   tools/consumer-check.sh            (KEEP=1 keeps the temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/engram-consumer.XXXXXX")
if [ "${KEEP:-0}" != 1 ]; then trap 'rm -rf "$work"' EXIT; fi
say() { echo "consumer-check: $*" >&2; }

git clone -q "$repo" "$work/engram"
git -C "$work/engram" -c user.name=ci -c user.email=ci@localhost tag -a 1.0.0 -m "consumer check" >/dev/null
say "cloned $(git -C "$work/engram" rev-parse --short HEAD) and tagged it 1.0.0"

mkdir -p "$work/host/Sources/host"
cat > "$work/host/Package.swift" <<SWIFT
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "host",
    dependencies: [.package(url: "file://$work/engram", from: "1.0.0")],
    targets: [.executableTarget(name: "host", dependencies: [.product(name: "Engram", package: "engram")])],
    swiftLanguageModes: [.v6]
)
SWIFT
cat > "$work/host/Sources/host/main.swift" <<'SWIFT'
import Engram

let store = try await MemoryStore.open(at: CommandLine.arguments[1])
try await store.save(MemoryEntry(id: "tea", content: "The user drinks green tea", embedding: [0.9, 0.1, 0.0]))
try await store.save(MemoryEntry(id: "cat", content: "The user's cat is called Miso", embedding: [0.0, 0.2, 0.9]))
let hits = try await store.search(vector: [1.0, 0.0, 0.0], k: 1)
guard hits.first?.id == "tea" else { fatalError("expected tea, got \(hits.map(\.id))") }
do { _ = try await store.memory("../etc/passwd") } catch let error as EngramError { print("refused:", error.code) }
try await store.close()
print("host: saved 2, nearest", hits[0].id)
SWIFT

say "building the consumer (resolves engram by version through file://)"
(cd "$work/host" && swift build -q 2>&1 | grep -v "^warning: 'main': Source files for target" >&2) || { say "FAILED: the consumer does not build"; exit 1; }
out=$("$work/host/.build/debug/host" "$work/store")
echo "$out"
grep -q "host: saved 2, nearest tea" <<<"$out" || { say "FAILED: the host program did not run as expected"; exit 1; }
say "ok: Engram 1.0.0 builds as a versioned dependency and the host program ran"
