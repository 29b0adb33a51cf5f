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
    // The user-facing description is `engram mcp --help`'s (EngramCLI's MCPCommand); this is what it execs.
    static let configuration = CommandConfiguration(
        commandName: "engram-mcp",
        abstract: "The MCP server behind `engram mcp` (see `engram mcp --help` and docs/MCP.md); it takes the same options.")

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
