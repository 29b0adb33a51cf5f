// A host program using Engram as a library: open a store, save memories durably, read, update, group, close.
// Run: swift run engram-example-host [STORE]   (default ./example-store)
import Engram

let path = CommandLine.arguments.dropFirst().first ?? "./example-store"
let store = try await MemoryStore.open(at: path)               // creates it if missing; takes the writer lock

let saved = try await store.saveBatch([                        // durable, all or nothing
    MemoryEntry(content: "The user prefers dark mode", embedding: [0.1, 0.9, 0.0], metadata: ["topic": "ui"]),
    MemoryEntry(content: "The user's cat is called Miso", embedding: [0.8, 0.1, 0.1], metadata: ["topic": "pets"]),
])
let cat = try await store.update(saved[1].id) { $0.quickrecalScore = 0.9 }   // optimistic: fails if changed meanwhile
let group = try await store.save(MemoryAssembly(name: "About the user", memoryIds: saved.map(\.id)))

print("memories:", await store.memoryIDs().count, "| assembly:", group.name, group.compositeEmbedding ?? [])
print(try await store.memory(cat.id)?.content ?? "missing", "| score:", cat.quickrecalScore)
try await store.close()                                        // checkpoints memory_index.json, releases the lock
