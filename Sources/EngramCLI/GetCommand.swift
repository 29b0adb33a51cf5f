import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram get ID`: print a memory's JSON.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Print a memory's JSON.")

    @OptionGroup var options: StoreOptions

    @Argument(help: "The memory's id.")
    var id: String

    func run() async throws {
        let store = try await options.open(readOnly: true, vectors: false, keywords: false)
        let memory = try await store.memory(id)
        try await store.close()
        guard let memory else {
            throw CommandFailure(message: "no memory '\(id)' in \(options.path)")
        }
        Console.current.outBytes(memory.jsonBytes())
    }
}
