/// The command line: `engram-bench [all|writes|open|load|vectors|maintenance|backup|graph|text|writers] [--count N] [--dir DIR] [--format text|json]`.
///
/// Parsed by hand: swift-argument-parser is not a dependency of this target.
struct BenchOptions: Sendable {
    enum Suite: String, Sendable, CaseIterable {
        case all, writes, open, load, vectors, maintenance, backup, graph, text, writers
        /// Figure 3s: open with N synthetic index entries (not part of `all`).
        case openSynthetic = "open-synthetic"

        var runsWrites: Bool { self == .all || self == .writes }
        var runsOpen: Bool { self == .all || self == .open }
        var runsLoad: Bool { self == .all || self == .load }
        var runsVectors: Bool { self == .all || self == .vectors }
        var runsMaintenance: Bool { self == .all || self == .maintenance }
        var runsBackup: Bool { self == .all || self == .backup }
        var runsGraph: Bool { self == .all || self == .graph }
        var runsText: Bool { self == .all || self == .text }
        var runsWriters: Bool { self == .all || self == .writers }
    }

    enum Format: String, Sendable {
        case text, json
    }

    var suite = Suite.all
    /// Memories in the large store that `open`, `load` and `maintenance` use.
    var count = 100_000
    /// The parent of the run's scratch directory; nil: `./bench-stores` in a package root, else `/tmp/engram-bench`.
    var directory: String?
    var format = Format.text

    static let usage = """
        usage: engram-bench [all|writes|open|load|vectors|maintenance|backup|graph|text|writers] [--count N] [--dir DIR] [--format text|json]

          all        every figure (default)
          writes     durable saves: 1 in flight, 64 in flight, one batch of 10,000
          open       opening a large store (built first)
          load       bulk-loading 10,000 uncached memories from a large store (built first)
          vectors    exact search through the store vs the raw FAISS shim (single and batch), recall@10,
                     vector index bytes per vector (needs shared/data/dev_*; skipped without it)
          maintenance
                     a large store (built first) opened from its vector checkpoint vs rebuilt from the
                     records, verify, full repair
          backup     backup of the large store as copies (the default) and as hard links (--link)
          graph      the L2 graph at 100,000 × 384 (dev data tiled): build vs FAISS HNSW, recall and latency
                     vs HNSW, open to first search, resident bytes, a 10 % delta (needs shared/data/dev_*)
          text       text search: keyword, dense and hybrid recall@10 per kind on 486 labelled queries
                     over 20,000 dev memories; latency per query at 50,000; index bytes vs content bytes
          writers    four `engram put` processes at once vs one; a writer catching up 1,000 foreign commits

          --count N          memories in the large store of `open`, `load`, `maintenance` and `backup` (default 100000)
          --dir DIR          where the scratch stores go; a fresh subdirectory is made there and
                             removed afterwards (default ./bench-stores in a package root, else /tmp/engram-bench)
          --format text|json the report's format (default text); progress always goes to stderr

        Every figure is a ratio against a baseline measured in the same run. Build with -c release.
        """

    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    /// Parses the arguments after the program name. `--help` throws a `UsageError` with an empty message.
    static func parse(_ arguments: [String]) throws(UsageError) -> BenchOptions {
        var options = BenchOptions()
        var suiteSeen = false
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            var name = argument
            var inlineValue: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            func value() throws(UsageError) -> String {
                if let inlineValue { return inlineValue }
                guard let next = rest.popFirst() else { throw UsageError(description: "\(name) needs a value") }
                return next
            }
            switch name {
            case "-h", "--help", "help":
                throw UsageError(description: "")
            case "--count":
                let text = try value()
                guard let count = Int(text.filter { $0 != "_" && $0 != "," }), count >= 1 else {
                    throw UsageError(description: "--count must be a positive integer, not '\(text)'")
                }
                options.count = count
            case "--dir":
                let text = try value()
                guard !text.isEmpty else { throw UsageError(description: "--dir must not be empty") }
                options.directory = text
            case "--format":
                let text = try value()
                guard let format = Format(rawValue: text) else { throw UsageError(description: "--format must be text or json, not '\(text)'") }
                options.format = format
            default:
                guard !name.hasPrefix("-") else { throw UsageError(description: "unknown option '\(name)'") }
                guard !suiteSeen else { throw UsageError(description: "only one of all, writes, open, load, vectors, maintenance, backup, graph, text, writers may be given") }
                guard let suite = Suite(rawValue: name) else { throw UsageError(description: "unknown benchmark '\(name)'") }
                options.suite = suite
                suiteSeen = true
            }
        }
        return options
    }
}
