import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram delete ID…`: delete memories (and remove them from the assemblies that list them).
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete memories; prints {\"id\", \"deleted\"} per id once durable.")

    @OptionGroup var options: StoreOptions

    @Argument(help: "The ids of the memories to delete.")
    var ids: [String]

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("give at least one id") }
    }

    func run() async throws {
        try await DeleteRecords.run(ids, options: options, noun: "memory") { store, id in try await store.deleteMemory(id) }
    }
}
