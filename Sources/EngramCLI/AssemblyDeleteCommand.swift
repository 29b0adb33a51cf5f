import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram assembly delete ID…` (the member memories stay).
struct AssemblyDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete assemblies (their memories stay).")

    @OptionGroup var options: StoreOptions

    @Argument(help: "The ids of the assemblies to delete.")
    var ids: [String]

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("give at least one id") }
    }

    func run() async throws {
        try await DeleteRecords.run(ids, options: options, noun: "assembly") { store, id in try await store.deleteAssembly(id) }
    }
}
