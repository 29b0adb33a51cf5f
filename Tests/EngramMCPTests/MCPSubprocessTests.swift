import Testing

/// The suites that start `engram mcp` processes, one test at a time: beside the rest of `swift test` on a small
/// machine, a dozen servers at once would slow the timing-sensitive tests of other suites (lock waits) for nothing.
@Suite("engram mcp subprocesses", .serialized)
enum MCPSubprocessTests {}
