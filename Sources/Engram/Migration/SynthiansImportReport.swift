import EngramJSON

/// What `engram migrate --from-synthians` imported (or, in a dry run, would import), per category.
public struct SynthiansImportReport: Sendable {
    /// A record (by id, or by file when it has no usable id) and a reason.
    public struct Item: Sendable, Hashable, Comparable {
        public var id: String
        public var reason: String
        public init(id: String, reason: String) { self.id = id; self.reason = reason }
        public static func < (a: Item, b: Item) -> Bool { (a.id, a.reason) < (b.id, b.reason) }
        var json: JSONValue { .object(["id": .string(id), "reason": .string(reason)]) }
    }

    public var source: String
    public var destination: String
    public var dryRun: Bool
    /// Every memory now in the destination from this import (written, or already identical there), sorted.
    public var importedMemories: [String] = []
    public var importedAssemblies: [String] = []
    /// Memories imported without an embedding, and why (e.g. the embedding held NaN). Also in `importedMemories`.
    public var memoriesWithoutEmbedding: [Item] = []
    /// Assembly members missing from the source's `memories/`, imported from the copy inside the assembly.
    public var memoriesFromAssemblyCopies: [Item] = []
    /// Records not imported because they cannot be (bad JSON, invalid id, no content…), and why.
    public var skipped: [Item] = []
    /// Changes made on the way in (a score clamped, a member dropped, a missing time).
    public var notes: [Item] = []
    /// Writes that failed: these records were importable but are not in the destination.
    public var failures: [Item] = []
    /// Files of the source that are not records and were not read, and why (the FAISS index: derived).
    public var ignoredFiles: [Item] = []
    /// Records written new, records rewritten because they differed, records already identical (not rewritten).
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    public var seconds: Double = 0

    public init(source: String, destination: String, dryRun: Bool) {
        self.source = source
        self.destination = destination
        self.dryRun = dryRun
    }

    /// Everything importable was imported (skipped records are reported but are not failures).
    public var succeeded: Bool { failures.isEmpty }

    public var json: JSONValue {
        .object([
            "source": .string(source),
            "destination": .string(destination),
            "dry_run": .bool(dryRun),
            "succeeded": .bool(succeeded),
            "memories": .object([
                "imported": .int(Int64(importedMemories.count)),
                "without_embedding": .array(memoriesWithoutEmbedding.map(\.json)),
                "from_assembly_copies": .array(memoriesFromAssemblyCopies.map(\.json)),
                "ids": .array(importedMemories.map { .string($0) }),
            ]),
            "assemblies": .object([
                "imported": .int(Int64(importedAssemblies.count)),
                "ids": .array(importedAssemblies.map { .string($0) }),
            ]),
            "created": .int(Int64(created)),
            "updated": .int(Int64(updated)),
            "unchanged": .int(Int64(unchanged)),
            "skipped": .array(skipped.map(\.json)),
            "notes": .array(notes.map(\.json)),
            "failures": .array(failures.map(\.json)),
            "ignored_files": .array(ignoredFiles.map(\.json)),
            "seconds": .double((seconds * 1000).rounded() / 1000),
        ])
    }
}
