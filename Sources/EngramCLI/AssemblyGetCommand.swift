import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram assembly get ID`.
struct AssemblyGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Print an assembly's JSON.")

    @OptionGroup var options: StoreOptions

    @Argument(help: "The assembly's id.")
    var id: String

    func run() async throws {
        let store = try await options.open(readOnly: true, vectors: false, keywords: false)
        let assembly = try await store.assembly(id)
        try await store.close()
        guard let assembly else { throw CommandFailure(message: "no assembly '\(id)' in \(options.path)") }
        Console.current.outBytes(assembly.jsonBytes())
    }
}
