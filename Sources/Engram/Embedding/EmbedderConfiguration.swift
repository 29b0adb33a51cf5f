/// A command that turns text into vectors: a long-lived child process speaking JSON Lines.
///
/// The store starts the command once, on the first text it needs embedded, and keeps it running until the store
/// closes. Each request is one line on the child's stdin, each reply one line on its stdout:
///
/// ```
/// → {"texts": ["first text", "second text"]}
/// ← {"vectors": [[0.1, 0.2, …], [0.3, 0.4, …]]}
/// ```
///
/// A reply of `{"error": "why"}` fails that request and the child keeps serving. The child's stderr is passed
/// through to this process's stderr (its last line is quoted when the child fails). See `docs/EMBEDDER.md`.
///
/// ```swift
/// var configuration = StoreConfiguration()
/// configuration.embedder = EmbedderConfiguration(shellCommand: "python3 embed.py")
/// let store = try await MemoryStore.open(at: path, configuration: configuration)
/// try await store.save(MemoryEntry(content: "no embedding given: the embedder computes it"))
/// ```
public struct EmbedderConfiguration: Sendable, Hashable {
    /// The program and its arguments (`argv`). The program is looked up on `PATH` when it has no `/`.
    public var command: [String]

    /// How long one request may take, in seconds, from writing it to reading the whole reply. A child that takes
    /// longer is killed (the request fails with ``EngramError/Code/embedder``) and started again for the next
    /// request. Default: 30.
    public var timeout: Double = 30

    /// Extra time, in seconds, allowed for the first reply of a freshly started child, which usually loads a model
    /// first (a sentence-transformers model takes seconds; its first download, longer). Default: 120.
    public var startupTimeout: Double = 120

    /// The most texts sent in one request; longer lists are split into several requests. Default: 64.
    public var batchSize = 64

    /// Variables added to (or replacing those of) the environment the child inherits. Default: none.
    public var environment: [String: String] = [:]

    /// The model the vectors come from, recorded as `embedding_model` on the memories the store embeds.
    /// Default: `nil` (the field is left as it is).
    public var model: String?

    /// Runs `command` as given (`argv[0]` is the program).
    public init(command: [String], timeout: Double = 30, batchSize: Int = 64, environment: [String: String] = [:], model: String? = nil) {
        self.command = command
        self.timeout = timeout
        self.batchSize = batchSize
        self.environment = environment
        self.model = model
    }

    /// Runs a shell command line with `/bin/sh -c` (quotes, `$VARIABLES` and `~` work as in a terminal).
    public init(shellCommand: String, timeout: Double = 30, batchSize: Int = 64, environment: [String: String] = [:], model: String? = nil) {
        self.init(command: ["/bin/sh", "-c", shellCommand], timeout: timeout, batchSize: batchSize, environment: environment, model: model)
    }

    /// The command as a person would type it, for messages.
    public var displayName: String {
        if command.count == 3, command[0] == "/bin/sh", command[1] == "-c" { return command[2] }
        return command.joined(separator: " ")
    }
}
