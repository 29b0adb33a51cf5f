import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram`: the root command. The executable's `main` only calls ``EngramCLI/main(_:)``.
public struct EngramCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "engram",
        abstract: "A durable, inspectable store for the long-term memory of AI agents.",
        discussion: "Data goes to stdout, diagnostics to stderr. Exit status: 0 success, 1 failure, 64 usage error.",
        subcommands: [
            InitCommand.self, PutCommand.self, GetCommand.self, DeleteCommand.self, ListCommand.self, StatsCommand.self, SearchCommand.self,
            VerifyCommand.self, RepairCommand.self, BackupCommand.self, RestoreCommand.self,
            MigrateCommand.self, AssemblyCommand.self, GraphCommand.self, DuplicatesCommand.self, DemoCommand.self, HashEmbedderCommand.self,
            MCPCommand.self,
        ])

    public init() {}
}

/// A command failed for a reason already explained (e.g. some ids were missing); carries the exit status.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var status: Int32 = 1
    var description: String { message }
}

extension JSONValue {
    /// One line of compact JSON, as a string.
    var compactString: String { String(decoding: JSONWriter.compact(self), as: UTF8.self) }
    var prettyString: String { String(decoding: JSONWriter.pretty(self, trailingNewline: false), as: UTF8.self) }
}

#if canImport(Glibc)
import Glibc
#endif
