import ArgumentParser
import Engram

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
        let console = Console.current
        let store = try await options.open()
        var missing: [String] = []
        do {
            for id in ids {
                let deleted = try await store.deleteMemory(id)
                console.out(#"{"id": "\#(id)", "deleted": \#(deleted)}"#)
                if !deleted { missing.append(id) }
            }
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
        if !missing.isEmpty { throw CommandFailure(message: "no memory with id \(missing.joined(separator: ", "))") }
    }
}
