import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("repair killed midway", .enabled(if: EngramBinary.path != nil, "the engram executable is not built"))
struct RepairKillTests {
    @Test("repair killed at random moments, then run again, finishes the job without losing a valid record")
    func killAndRerun() async throws {
        for (attempt, delay) in [30_000, 120_000, 300_000, 600_000].enumerated() {
            let dir = TemporaryDirectory("repairkill\(attempt)")
            let store = try await MemoryStore.open(at: dir.store)
            let ids = (0..<1500).map { "m\($0)" }
            try await store.saveBatch(ids.map { id in MemoryEntry(id: id, content: "memory \(id)", embedding: (0..<16).map { Float(id.hashValue % 97 + $0) / 100 }) })
            try await store.close()
            // Faults: an unreadable record, a hand edit, a foreign file, a lost index and lost vectors.
            try "garbage".write(toFile: dir.store + "/memories/m1.json", atomically: false, encoding: .utf8)
            let edited = dir.store + "/memories/m2.json"
            let text = try String(contentsOfFile: edited, encoding: .utf8).replacingOccurrences(of: "memory m2", with: "edited m2")
            try text.write(toFile: edited, atomically: false, encoding: .utf8)
            try "x".write(toFile: dir.store + "/stray.txt", atomically: false, encoding: .utf8)
            try FileManager.default.removeItem(atPath: dir.store + "/memory_index.json")
            try FileManager.default.removeItem(atPath: dir.store + "/vector_index/manifest.json")

            let process = Process()
            process.executableURL = URL(fileURLWithPath: EngramBinary.path!)
            process.arguments = ["--store", dir.store, "repair"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32(delay))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()

            let rerun = try EngramBinary.run(["--store", dir.store, "repair"])
            #expect(rerun.status == 0, "attempt \(attempt): \(rerun.stdout) \(rerun.stderr)")
            let verify = try EngramBinary.run(["--store", dir.store, "verify"])
            #expect(verify.status == 0, "attempt \(attempt): \(verify.stdout)")
            let after = try await MemoryStore.open(at: dir.store, configuration: { var c = StoreConfiguration(); c.readOnly = true; return c }())
            #expect(await after.statistics().memoryCount == 1499)
            #expect(try await after.memory("m2")?.content == "edited m2")
            #expect(try await after.memory("m1499")?.content == "memory m1499")
            try await after.close()
            let quarantined = FileManager.default.enumerator(atPath: dir.store + "/quarantine")?.allObjects as? [String] ?? []
            #expect(quarantined.contains { $0.hasSuffix("memories/m1.json") })
            #expect(quarantined.contains { $0.hasSuffix("stray.txt") })
        }
    }
}
