import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// `engram assembly put [FILE|-]`.
struct AssemblyPutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Save assemblies given as JSON objects (name, memory_ids, …); prints {\"id\"} once each is durable.")

    @OptionGroup var options: StoreOptions

    @Argument(help: "A JSON or JSON Lines file, or - for stdin.")
    var file: String = "-"

    func run() async throws {
        let console = Console.current
        let store = try await options.open(create: true)
        var failed = 0
        do {
            try await RecordInput(path: file).forEach { parsed, line, _ in
                do {
                    let assembly = try MemoryAssembly(json: parsed.get(), source: "input line \(line)", strict: false, operation: "assembly put")
                    let saved = try await store.save(assembly)
                    console.out(#"{"id": "\#(saved.id)"}"#)
                } catch let error as EngramError {
                    console.err("engram: line \(line): \(error)")
                    failed += 1
                }
            }
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
        if failed > 0 { throw CommandFailure(message: "\(failed) assemblies were not saved (see above)") }
    }
}
