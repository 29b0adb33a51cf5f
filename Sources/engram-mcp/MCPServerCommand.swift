import ArgumentParser
import Engram
import EngramCLI
import EngramIO
import EngramMCP
import Foundation
import Logging

/// `engram mcp`: serve the store to an agent over the Model Context Protocol, on stdin and stdout. The `engram`
/// command execs this executable (see `MCPCommand` in EngramCLI).
///
/// An executable of its own because the MCP SDK brings Foundation's networking stack (libcurl, GnuTLS: 60 shared
/// libraries instead of 28), which every `engram` command would otherwise load at start — doubling the start-up
/// of a plain `engram get`.
@main
struct MCPServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engram-mcp",
        abstract: "Serve the store over the Model Context Protocol (JSON-RPC on stdin/stdout) for AI agents.",
        discussion: """
            An MCP client (an agent app, an IDE, a framework) starts this command and talks to it over stdin and \
            stdout: tools to save, update, read, delete, search and list memories and assemblies, and to show the \
            store's statistics and verify it; every record is also a resource (engram://memory/<id>, \
            engram://assembly/<id>). Logs go to stderr. The store is created if missing. Any number of servers \
            (one per client) may share one store; each sees the others' writes on its next call. It exits with \
            status 0 when stdin closes, after answering what was asked and closing the store. docs/MCP.md lists \
            the tools.
            """)

    @OptionGroup var options: StoreOptions

    func run() async throws {
        // A client that goes away closes our stdout: a write must fail with EPIPE, not kill the process mid-save.
        signal(SIGPIPE, SIG_IGN)
        let logger = Logger(label: "engram.mcp") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let store = try await options.open(create: true)
        do {
            let server = EngramMCPServer(store: store, logger: logger)
            try await server.serve(transport: GuardedStdioTransport(limits: server.limits, logger: logger))
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }
}
