import Engram
import EngramIO
import EngramJSON

/// The body of `delete` and `assembly delete`: one durable delete per id, one `{"id", "deleted"}` line each,
/// exit status 1 naming the ids that did not exist.
enum DeleteRecords {
    static func run(_ ids: [String], options: StoreOptions, noun: String, delete: @escaping (MemoryStore, String) async throws -> Bool) async throws {
        let console = Console.current
        let store = try await options.open()
        var missing: [String] = []
        do {
            for id in ids {
                let deleted = try await delete(store, id)
                console.out(#"{"id": "\#(id)", "deleted": \#(deleted)}"#)
                if !deleted { missing.append(id) }
            }
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
        if !missing.isEmpty { throw CommandFailure(message: "no \(noun) with id \(missing.joined(separator: ", "))") }
    }
}
