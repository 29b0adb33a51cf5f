import ArgumentParser
import Engram
import EngramIO
import EngramJSON
import Foundation

/// `engram init`: create a store (the layout of `storage-template/`).
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a store; refuses a non-empty directory that is not a store.")

    @OptionGroup var options: StoreOptions

    @Option(help: ArgumentHelp("Copy this template directory (e.g. storage-template/) instead of the built-in layout.", valueName: "DIR"))
    var template: String?

    func run() async throws {
        let console = Console.current
        let path = options.path
        if let template {
            try StoreTemplate.copy(from: template, to: path)
        }
        let hadLostAndFound = StoreLayout.isFileSystemEntry("lost+found", in: path)
        let store = try await options.open(create: true)
        try await store.close()
        var result: JSONObject = ["store": .string(path), "created": true]
        if hadLostAndFound {
            result["note"] = "kept lost+found: the directory is the root of a volume of its own, which is fine for a store"
        }
        console.out(String(decoding: JSONWriter.compact(.object(result)), as: UTF8.self))
    }
}

/// Copying `storage-template/` into a new store directory.
enum StoreTemplate {
    /// Copies the template's directories and `memory_index.json` (not placeholder files such as `.gitkeep`).
    static func copy(from template: String, to destination: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: template + "/memory_index.json") else {
            throw EngramError(code: .notAStore, message: "the template has no memory_index.json", operation: "init", path: template,
                              remedy: "point --template at the repository's storage-template/")
        }
        if fm.fileExists(atPath: destination, isDirectory: &isDirectory) {
            let contents = try fm.contentsOfDirectory(atPath: destination).filter { !StoreLayout.isFileSystemEntry($0, in: destination) }
            if !contents.isEmpty {
                if fm.fileExists(atPath: destination + "/memory_index.json") { return }  // already a store
                throw EngramError(code: .notAStore, message: "the directory is not empty and is not a store", operation: "init", path: destination,
                                  remedy: "choose an empty or new directory")
            }
        }
        let layout = StoreLayout(root: destination)
        try? fm.createDirectory(atPath: destination, withIntermediateDirectories: true)
        for directory in layout.directories { try? fm.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: template + "/memory_index.json")))
        try FileEngine.writeAtomicallyBlocking(PendingFile(directory: layout.root, name: "memory_index.json", bytes: bytes), operation: "init")
    }
}
