import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram assembly put|get|delete|list`.
struct AssemblyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assembly", abstract: "Save, print, delete and list assemblies (named groups of memories).",
        subcommands: [AssemblyPutCommand.self, AssemblyGetCommand.self, AssemblyDeleteCommand.self, AssemblyListCommand.self])
}
