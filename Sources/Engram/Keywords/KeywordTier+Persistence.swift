import EngramIO
import EngramJSON
import EngramText

#if canImport(Glibc)
import Glibc
#endif

/// The files of `keyword_index/` (docs/KEYWORDS.md):
///
/// - `keywords-<generation>.seg`: the BM25 segment (EngramText's format), memory-mapped by every process that
///   searches it. A new generation is a new file, so a reader that mapped the old one keeps a consistent view.
/// - `manifest.json`, written last (atomically): the generation, the segment's name, size and XXH3-64, the
///   configuration it was built with, and the journal sequence it includes. A crash before the manifest leaves
///   the previous manifest naming the previous segment, which is still there: nothing to rebuild.
package enum KeywordFiles {
    package static let directory = "keyword_index"
    package static let manifest = "manifest.json"
    static func segment(_ generation: Int64) -> String { "keywords-\(generation).seg" }
}

extension KeywordTier {
    /// Writes a new segment generation, then the manifest, then removes the older segments.
    func writeFiles(to directory: String, journalSequence: Int64) throws {
        let operation = "checkpoint keyword index"
        if Sys.fileType(directory) == nil {
            _ = try Sys.mkdir(directory, operation: operation)
            // A store made before keyword_index/ existed (a writer's open creates it; this is the fallback).
            let parent = directory.lastIndex(of: "/").map { String(directory[..<$0]) } ?? "."
            try Sys.fsyncDirectory(parent.isEmpty ? "/" : parent, operation: operation)
        }
        // The generation and the file are taken under the lock: the file holds exactly the index at this moment.
        let (generation, size, hash, count) = try state.withLock { (state: inout State) throws(EngramError) -> (Int64, Int, UInt64, Int) in
            state.generation += 1
            let name = KeywordFiles.segment(state.generation)
            let temporary = directory + "/" + Sys.temporaryName(for: name)
            let written: (size: Int, hash: UInt64)
            do throws(EngramError) {
                written = try state.index.write(to: temporary)
                try Sys.rename(temporary, directory + "/" + name, operation: operation)
            } catch {
                _ = try? Sys.unlink(temporary)
                throw error
            }
            return (state.generation, written.size, written.hash, state.index.count)
        }
        try Sys.fsyncDirectory(directory, operation: operation)
        let manifest: JSONValue = .object([
            "format": "engram-keyword-manifest", "version": 1,
            "generation": .int(generation),
            "written_at": .string(Timestamp.now().description),
            "journal_seq": .int(journalSequence),
            "configuration": .string(configuration.fingerprint),
            "document_count": .int(Int64(count)),
            "segment": .object(["name": .string(KeywordFiles.segment(generation)), "bytes": .int(Int64(size)), "xxh3": .string(RecordID.hex16(hash))]),
        ])
        try FileEngine.writeAtomicallyBlocking(PendingFile(directory: directory, name: KeywordFiles.manifest, bytes: JSONWriter.pretty(manifest)), operation: operation)
        // Older generations: no manifest names them any more (a reader that mapped one keeps its mapping).
        for name in (try? Sys.listDirectory(directory)) ?? [] where name.hasPrefix("keywords-") && name != KeywordFiles.segment(generation) {
            _ = try? Sys.unlink(directory + "/" + name)
        }
    }

    /// The configuration the manifest says the index was built with (verify checks the index as built).
    static func manifestConfiguration(directory: String) -> KeywordConfiguration? {
        guard let bytes = try? Sys.readFile(directory + "/" + KeywordFiles.manifest, maxSize: 1 << 20, operation: "verify keyword index"),
              let fingerprint = (try? JSONReader.parse(bytes))?["configuration"]?.stringValue
        else { return nil }
        return KeywordConfiguration(fingerprint: fingerprint)
    }

    /// Maps the segment the manifest names. Nil and the reason when anything is missing, damaged, or built with
    /// another configuration: the caller rebuilds from the records.
    static func load(directory: String, configuration: KeywordConfiguration, verifyChecksum: Bool = false) -> (KeywordTier?, String?) {
        let relative = KeywordFiles.directory
        guard Sys.fileType(directory + "/" + KeywordFiles.manifest) == .file,
              let bytes = try? Sys.readFile(directory + "/" + KeywordFiles.manifest, maxSize: 1 << 20, operation: "load keyword index")
        else { return (nil, "\(relative)/manifest.json is missing") }
        guard let manifest = try? JSONReader.parse(bytes), manifest["format"]?.stringValue == "engram-keyword-manifest",
              let generation = manifest["generation"]?.int64Value, let segment = manifest["segment"],
              let name = segment["name"]?.stringValue, name == KeywordFiles.segment(generation),
              let size = segment["bytes"]?.int64Value, let hash = segment["xxh3"]?.stringValue
        else { return (nil, "\(relative)/manifest.json is unreadable") }
        guard manifest["version"]?.int64Value == 1 else { return (nil, "\(relative)/manifest.json is of another format version") }
        guard manifest["configuration"]?.stringValue == configuration.fingerprint else {
            return (nil, "the keyword index was built with another configuration (\(manifest["configuration"]?.stringValue ?? "?"))")
        }
        let path = directory + "/" + name
        guard Sys.fileType(path) == .file else { return (nil, "\(relative)/\(name) is missing") }
        var info = stat()
        guard lstat(path, &info) == 0, Int64(info.st_size) == size else {
            return (nil, "\(relative)/\(name) is not the size manifest.json gives (\(size) bytes)")
        }
        if verifyChecksum {
            // Only verify reads the whole file: open maps it and reads what searches touch.
            guard let bytes = try? Sys.readFile(path, maxSize: 1 << 40, operation: "verify keyword index"), ContentHash.checksum(bytes) == hash else {
                return (nil, "\(relative)/\(name) does not match its checksum in manifest.json")
            }
        }
        do {
            let index = try KeywordIndex.open(path: path, parameters: BM25Parameters(k1: configuration.k1, b: configuration.b))
            return (KeywordTier(configuration: configuration, index: index, generation: generation), nil)
        } catch {
            return (nil, "\(relative)/\(name) cannot be loaded: \(error.message)")
        }
    }
}
