// A test helper: writes to a store and prints `ACK <id> <updated_at>` (or `ACKDEL <id>`) on stdout, flushed,
// only after the store acknowledged the operation. Crash tests kill it with SIGKILL at random moments and
// check that everything acknowledged survived.
//
// usage: engram-crash-writer STORE MODE COUNT SEED
//   MODE: single (one save at a time), batch (batches of 50), concurrent (16 saves in flight), mixed
//   (saves, deletes — announced by `START DEL <id>` before they begin — and assemblies)
import Engram
import EngramIO
import EngramJSON

#if canImport(Glibc)
import Glibc
#endif

struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

/// One `write(2)` per line: unbuffered, so a line is out before the next operation starts.
func ack(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

let arguments = CommandLine.arguments
guard arguments.count == 5, let count = Int(arguments[3]), let seed = UInt64(arguments[4]) else {
    FileHandle_stderr("usage: engram-crash-writer STORE single|batch|concurrent|mixed COUNT SEED\n")
    exit(64)
}

func FileHandle_stderr(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

let storePath = arguments[1]
let mode = arguments[2]
var generator = SeededGenerator(state: seed)
let dimension = 8

/// Several writer processes on one store each get a prefix (ENGRAM_CRASH_PREFIX): their own ids and contents.
/// Letters only: the keyword audit finds each memory by its content, and a digit in the prefix would be a term
/// ("p0" is also "p" and "0") competing with the memory's own number.
let prefix = getenv("ENGRAM_CRASH_PREFIX").map { String(cString: $0) } ?? ""

func memory(_ n: Int, _ generator: inout SeededGenerator) -> MemoryEntry {
    let vector = (0..<dimension).map { _ in Float.random(in: -1...1, using: &generator) }
    return MemoryEntry(id: "\(prefix)m\(n % 400)", content: "memory \(n) written by the crash writer" + (prefix.isEmpty ? "" : " " + prefix),
                       embedding: vector, metadata: ["n": .int(Int64(n))])
}

var configuration = StoreConfiguration()
configuration.flushThreshold = 7
configuration.backupInterval = 0
let store: MemoryStore
do {
    store = try await MemoryStore.open(at: storePath, configuration: configuration)
} catch {
    FileHandle_stderr("open failed: \(error)\n")
    exit(1)
}
ack("READY")
do {
    switch mode {
    case "single":
        for n in 0..<count {
            let saved = try await store.save(memory(n, &generator))
            ack("ACK \(saved.id) \(saved.updatedAt)")
        }
    case "batch":
        var n = 0
        while n < count {
            var batch: [MemoryEntry] = []
            var ids = Set<String>()
            while batch.count < 50 && n < count {
                let m = memory(n, &generator)
                n += 1
                if ids.insert(m.id).inserted { batch.append(m) }
            }
            let saved = try await store.saveBatch(batch)
            for s in saved { ack("ACK \(s.id) \(s.updatedAt)") }
        }
    case "concurrent":
        var n = 0
        while n < count {
            let group = (0..<16).map { memory(n + $0, &generator) }
            n += 16
            try await withThrowingTaskGroup(of: MemoryEntry.self) { tasks in
                for m in group where Set(group.map(\.id)).count == group.count { tasks.addTask { try await store.save(m) } }
                for try await s in tasks { ack("ACK \(s.id) \(s.updatedAt)") }
            }
        }
    default:  // mixed: saves, deletes, assemblies
        for n in 0..<count {
            let roll = Int.random(in: 0..<10, using: &generator)
            if roll < 6 {
                let saved = try await store.save(memory(n, &generator))
                ack("ACK \(saved.id) \(saved.updatedAt)")
            } else if roll < 8 {
                let id = "m\(Int.random(in: 0..<400, using: &generator))"
                // Announced first: a delete in flight at the kill may or may not have happened.
                ack("START DEL \(id)")
                if try await store.deleteMemory(id) { ack("ACKDEL \(id)") }
            } else {
                let members = Array(await store.memoryIDs().prefix(3))
                let saved = try await store.save(MemoryAssembly(id: "a\(n % 10)", name: "assembly \(n)", memoryIds: members))
                ack("ACKASM \(saved.id) \(saved.updatedAt)")
            }
        }
    }
    try await store.close()
    ack("DONE")
} catch {
    FileHandle_stderr("writer failed: \(error)\n")
    exit(1)
}
