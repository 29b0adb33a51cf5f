import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram assembly list`.
struct AssemblyListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Print assembly ids, one per line.")

    @OptionGroup var options: StoreOptions

    func run() async throws {
        let store = try await options.open(readOnly: true, vectors: false, keywords: false)
        let ids = await store.assemblyIDs()
        try await store.close()
        if !ids.isEmpty { Console.current.out(ids.joined(separator: "\n")) }
    }
}
