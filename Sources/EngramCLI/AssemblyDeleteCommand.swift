import ArgumentParser
import Engram

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
        let console = Console.current
        let store = try await options.open()
        var missing: [String] = []
        do {
            for id in ids {
                let deleted = try await store.deleteAssembly(id)
                console.out(#"{"id": "\#(id)", "deleted": \#(deleted)}"#)
                if !deleted { missing.append(id) }
            }
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
        if !missing.isEmpty { throw CommandFailure(message: "no assembly with id \(missing.joined(separator: ", "))") }
    }
}
