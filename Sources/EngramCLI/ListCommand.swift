import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram list`: memory ids, one per line.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Print memory ids, one per line.")

    @OptionGroup var options: StoreOptions

    func run() async throws {
        let store = try await options.open(readOnly: true, vectors: false, keywords: false)
        let ids = await store.memoryIDs()
        try await store.close()
        let console = Console.current
        if !ids.isEmpty { console.out(ids.joined(separator: "\n")) }
    }
}
