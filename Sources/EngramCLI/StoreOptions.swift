import ArgumentParser
import Engram
import EngramIO
import EngramJSON
import Foundation
import Logging

/// `--store DIR`, shared by every command: defaults to `$ENGRAM_STORE`, else `./storage` (SPEC §4).
public struct StoreOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: ArgumentHelp("The storage directory (default: $ENGRAM_STORE, else ./storage).", valueName: "DIR"))
    public var store: String?

    @Option(name: .long, help: ArgumentHelp(
        "A command that turns text into vectors (JSON Lines on stdin/stdout, run with /bin/sh -c; default: $ENGRAM_EMBEDDER). Memories saved without an embedding get their content embedded. `engram hash-embedder` is a test/demo embedder.",
        valueName: "COMMAND"))
    public var embedder: String?

    @Option(name: .long, help: ArgumentHelp(
        "How long a write waits for another process's commit before failing, naming that process (default 10). Any number of processes may write to one store; they take turns per commit.",
        valueName: "SECONDS"))
    public var wait: Double?

    public init() {}

    /// `--embedder`, else `$ENGRAM_EMBEDDER` (an empty value means none).
    public var embedderConfiguration: EmbedderConfiguration? {
        let command = embedder ?? ProcessInfo.processInfo.environment["ENGRAM_EMBEDDER"]
        guard let command, !command.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return EmbedderConfiguration(shellCommand: command)
    }

    /// `--store DIR` given before the command name (`engram --store DIR stats`), as SPEC §4 writes it.
    @TaskLocal static var leadingStore: String?

    public var path: String {
        store ?? StoreOptions.leadingStore ?? ProcessInfo.processInfo.environment["ENGRAM_STORE"].flatMap { $0.isEmpty ? nil : $0 } ?? "./storage"
    }

    /// Opens the store as commands do: recoveries are reported on stderr.
    /// `vectors` / `keywords`: load the vector and keyword tiers. Commands that never search turn both off: the
    /// tiers load in the background, but close waits for them, and that would be most of a `get`.
    public func open(readOnly: Bool = false, create: Bool = false, vectors: Bool = true, keywords: Bool = true,
                     duplicates: DuplicatePolicy = .reuse) async throws -> MemoryStore {
        var configuration = StoreConfiguration()
        configuration.duplicates = duplicates
        configuration.readOnly = readOnly
        configuration.loadVectorTier = vectors
        configuration.loadKeywordTier = keywords
        configuration.createIfMissing = create
        configuration.embedder = embedderConfiguration
        if let wait { configuration.busyTimeout = max(0, wait) }
        configuration.logger = Logger(label: "engram") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .notice
            return handler
        }
        return try await MemoryStore.open(at: path, configuration: configuration)
    }
}

extension DuplicatePolicy: ExpressibleByArgument {}
