import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `engram mcp`: serve the store to an agent over the Model Context Protocol, on stdin and stdout.
///
/// The server is the `engram-mcp` executable beside `engram` (or on PATH), which this command replaces itself
/// with (`execv`: the client's pipes and the process id stay the same). Kept out of `engram` because the MCP SDK
/// links Foundation's networking stack, which would slow the start of every other command.
struct MCPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the store over the Model Context Protocol (JSON-RPC on stdin/stdout) for AI agents.",
        discussion: """
            An MCP client (an agent app, an IDE, a framework) starts this command and talks to it over stdin and \
            stdout: tools to save, update, read, delete, search and list memories and assemblies, and to show the \
            store's statistics and verify it; every record is also a resource (engram://memory/<id>, \
            engram://assembly/<id>). Logs go to stderr. The store is created if missing. Any number of servers \
            (one per client) may share one store; each sees the others' writes on its next call. It exits with \
            status 0 when stdin closes, after answering what was asked and closing the store. docs/MCP.md lists \
            the tools. The server is the engram-mcp executable installed beside engram.
            """)

    @OptionGroup var options: StoreOptions

    func run() throws {
        guard let server = MCPCommand.locateServer() else {
            throw CommandFailure(message: "engram-mcp was not found beside engram or on PATH: build it (`swift build -c release --product engram-mcp`) and install it beside engram")
        }
        var arguments = [server, "--store", options.path]
        if let embedder = options.embedder { arguments += ["--embedder", embedder] }
        if let wait = options.wait { arguments += ["--wait", String(wait)] }
        let argv = arguments.map { strdup($0) } + [nil]
        execv(server, argv)
        let error = String(cString: strerror(errno))
        throw CommandFailure(message: "could not start \(server): \(error)")
    }

    /// `engram-mcp` beside this executable (its real path: an installed `engram`, or `.build/…` in tests), else
    /// on PATH.
    static func locateServer() -> String? {
        var candidates: [String] = []
        if let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: me).deletingLastPathComponent().path + "/engram-mcp")
        }
        if let first = CommandLine.arguments.first, first.contains("/") {
            candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent().path + "/engram-mcp")
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") { candidates.append(directory + "/engram-mcp") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
