import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram put [FILE|-]`: save memories given as JSON objects or JSON Lines.
struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Save memories from a JSON object or JSON Lines (FILE, or - for stdin).",
        discussion: """
            Each memory needs `content`; `embedding`, `metadata`, `quickrecal_score`, `id` and the other fields of SPEC §2 \
            are optional. Memories are saved in group-committed batches and each `{"id": …}` line is printed only once \
            that memory is durable. Invalid records are reported on stderr with their line and skipped (exit status 1). \
            With --embedder (or $ENGRAM_EMBEDDER), memories without `embedding` get their content embedded, a batch \
            at a time; if the embedder fails, that batch is not saved and put stops with the embedder's error.

            A memory without an `id` whose content equals a stored memory's is not stored twice under the default \
            --duplicates reuse: its line is {"id": <existing>, "duplicate": true}. `allow` stores it again; `reject` \
            reports it as an error. A memory given with an `id` is always saved.
            """)

    @OptionGroup var options: StoreOptions

    @Argument(help: "A JSON or JSON Lines file, or - for stdin.")
    var file: String = "-"

    @Option(help: "Memories per durable batch.")
    var batchSize: Int = 512

    @Option(help: ArgumentHelp("A memory without an id whose content is already stored: reuse (print the existing id), allow, or reject.",
                               valueName: "POLICY"))
    var duplicates: DuplicatePolicy = .reuse

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() async throws {
        let store = try await options.open(create: true, duplicates: duplicates)
        do {
            let result = try await Importer(store: store, batchSize: batchSize, label: "put").importMemories(from: RecordInput(path: file))
            try await store.close()
            if result.failed > 0 {
                throw CommandFailure(message: "\(result.failed) of \(result.failed + result.saved) records were not saved (see above)")
            }
        } catch {
            try? await store.close()
            throw error
        }
    }
}

/// Feeds parsed records to the store in batches and prints acknowledgements.
struct Importer {
    let store: MemoryStore
    let batchSize: Int
    let label: String
    var console: Console { Console.current }

    struct Outcome { var saved = 0; var failed = 0 }

    func importMemories(from input: RecordInput, transform: ((inout MemoryEntry, Int) -> Void)? = nil) async throws -> Outcome {
        var outcome = Outcome()
        var batch: [MemoryEntry] = []
        var ids = Set<String>()
        var contents = Set<String>()
        var count = 0
        func flush() async throws {
            guard !batch.isEmpty else { return }
            let saved = try await store.saveBatch(batch)
            for (memory, asked) in zip(saved, batch) {
                // The duplicate policy handed back a stored memory instead of saving this one.
                console.out(memory.id == asked.id ? #"{"id": "\#(memory.id)"}"# : #"{"id": "\#(memory.id)", "duplicate": true}"#)
            }
            outcome.saved += saved.count
            console.progress(label, outcome.saved, of: nil)
            batch.removeAll(keepingCapacity: true)
            ids.removeAll(keepingCapacity: true)
            contents.removeAll(keepingCapacity: true)
        }
        try await input.forEach { parsed, line, morePending in
            count += 1
            do {
                var memory = try MemoryEntry(json: parsed.get(), source: "input line \(line)", strict: false, operation: "put")
                transform?(&memory, count)
                // A repeated id, or a repeated new content (which the duplicate policy judges against the stored
                // one), starts a new batch.
                let content = memory.hasGeneratedID ? memory.contentHash : nil
                if ids.contains(memory.id) || content.map(contents.contains) == true { try await flush() }
                try await store.check(memory)
                ids.insert(memory.id)
                if let content { contents.insert(content) }
                batch.append(memory)
            } catch let error as EngramError {
                console.err("engram: line \(line): \(error)")
                outcome.failed += 1
            }
            if batch.count >= batchSize || !morePending { try await flush() }
        }
        try await flush()
        return outcome
    }
}
