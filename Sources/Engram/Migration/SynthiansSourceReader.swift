import EngramIO
import EngramJSON

/// Reads a Synthians store's records (blocking; run on a pool thread). Only the records are trusted: the
/// FAISS index and its id maps are derived data of another program, and Engram builds its vector tier from the
/// records itself. Paths in Synthians' `memory_index.json` are never opened (the directories are listed
/// instead), so a hostile index cannot point the import outside the source.
enum SynthiansSourceReader {
    typealias Item = SynthiansImportReport.Item

    struct Contents: Sendable {
        /// By id, from `memories/`.
        var memories: [String: SynthiansRecordMapper.MappedMemory] = [:]
        /// Sorted by id, from `assemblies/`.
        var assemblies: [SynthiansRecordMapper.MappedAssembly] = []
        var skipped: [Item] = []
        var notes: [Item] = []
        var ignoredFiles: [Item] = []
    }

    static let operation = "migrate --from-synthians"
    static let derivedFiles: Set<String> = ["faiss_index.bin", "faiss_index.bin.mapping.json", "id_to_index.json"]

    static func read(_ root: String, now: Timestamp = .now()) throws(EngramError) -> Contents {
        let op = operation
        guard Sys.fileType(root + "/.") == .directory else {
            throw EngramError(code: .notFound, message: "no Synthians store here", operation: op, path: root,
                              remedy: "give the directory holding the Synthians memory_index.json, memories/ and assemblies/")
        }
        let memoriesDirectory = root + "/memories"
        let assembliesDirectory = root + "/assemblies"
        let indexPath = root + "/memory_index.json"
        guard Sys.fileType(memoriesDirectory) == .directory || Sys.fileType(indexPath) == .file else {
            throw EngramError(code: .notAStore, message: "not a Synthians store (no memory_index.json, no memories/)", operation: op, path: root,
                              remedy: "give the directory holding the Synthians memory_index.json, memories/ and assemblies/")
        }
        var contents = Contents()

        // The index: only for the kinds it lists, the times it records, and to report records it lists without a file.
        var listed: [String: String] = [:]
        var times: [String: Timestamp] = [:]
        if Sys.fileType(indexPath) == .file {
            do throws(EngramError) {
                let bytes = try Sys.readFile(indexPath, operation: op)
                guard let parsed = try? SynthiansJSON.parse(bytes), let entries = parsed.value.objectValue else {
                    throw EngramError(code: .corrupt, message: "not a JSON object", operation: op, path: indexPath)
                }
                if entries["metadata"]?["format"]?.stringValue == "engram" {
                    throw EngramError(code: .usage, message: "this is an Engram store, not a Synthians one", operation: op, path: root,
                                      remedy: "copy an Engram store with `engram --store SRC migrate --to DEST`")
                }
                for (id, entry) in entries {
                    listed[id] = entry["type"]?.stringValue ?? "record"
                    if let text = entry["timestamp"]?.stringValue, let time = Timestamp(parsing: text) { times[id] = time }
                }
            } catch where error.code == .usage {
                throw error
            } catch {
                contents.notes.append(Item(id: "memory_index.json", reason: "unreadable (\(error.message)): the records were read from memories/ and assemblies/ alone"))
            }
        }

        for name in try Sys.listDirectory(root, operation: op).sorted() where !["memories", "assemblies", "memory_index.json"].contains(name) {
            contents.ignoredFiles.append(Item(id: name, reason: derivedFiles.contains(name)
                ? "derived by Synthians (FAISS index or its id map): Engram builds its vector tier from the records"
                : "not part of the Synthians record layout"))
        }

        for (id, file, object, nonFinite) in try records(in: memoriesDirectory, kind: "memories", into: &contents) {
            do throws(SynthiansRecordMapper.Failure) {
                var mapped = try SynthiansRecordMapper.memory(object, origin: file, fallbackTime: id.flatMap { times[$0] }, now: now)
                let inEmbedding = object["embedding"]?.arrayValue?.filter(\.isNull).count ?? 0
                if nonFinite > inEmbedding {
                    mapped.notes.append("\(nonFinite - inEmbedding) NaN/Infinity values outside the embedding were stored as null")
                }
                if let earlier = contents.memories[mapped.entry.id] {
                    contents.skipped.append(Item(id: mapped.entry.id, reason: "duplicate id: \(file) holds the same id as \(earlier.origin), which was imported"))
                } else {
                    contents.memories[mapped.entry.id] = mapped
                }
            } catch {
                guard case .skip(let reason) = error else { continue }
                contents.skipped.append(Item(id: id ?? file, reason: "\(file): \(reason)"))
            }
        }

        var assemblies: [String: SynthiansRecordMapper.MappedAssembly] = [:]
        for (id, file, object, _) in try records(in: assembliesDirectory, kind: "assemblies", into: &contents) {
            do throws(SynthiansRecordMapper.Failure) {
                let mapped = try SynthiansRecordMapper.assembly(object, origin: file, fallbackTime: id.flatMap { times[$0] }, now: now)
                if let earlier = assemblies[mapped.assembly.id] {
                    contents.skipped.append(Item(id: mapped.assembly.id, reason: "duplicate id: \(file) holds the same id as \(earlier.origin), which was imported"))
                } else {
                    assemblies[mapped.assembly.id] = mapped
                }
            } catch {
                guard case .skip(let reason) = error else { continue }
                contents.skipped.append(Item(id: id ?? file, reason: "\(file): \(reason)"))
            }
        }
        contents.assemblies = assemblies.values.sorted { $0.assembly.id < $1.assembly.id }

        let mentioned = Set(contents.skipped.map(\.id))
        for (id, type) in listed.sorted(by: { $0.key < $1.key })
        where contents.memories[id] == nil && assemblies[id] == nil && !mentioned.contains(id) {
            contents.skipped.append(Item(id: id, reason: "listed in memory_index.json (\(type)) but no file in memories/ or assemblies/ holds it"))
        }
        return contents
    }

    /// The JSON objects of a record directory, each with its id (if it has a string one), its store-relative
    /// file name and the number of NaN/Infinity tokens replaced. Files that are not JSON objects are reported
    /// as skipped.
    private static func records(in directory: String, kind: String, into contents: inout Contents) throws(EngramError)
        -> [(id: String?, file: String, object: JSONObject, nonFinite: Int)]
    {
        guard Sys.fileType(directory) == .directory else { return [] }
        var out: [(id: String?, file: String, object: JSONObject, nonFinite: Int)] = []
        for name in try Sys.listDirectory(directory, operation: operation).sorted() {
            let file = kind + "/" + name
            let path = directory + "/" + name
            guard name.hasSuffix(".json"), !name.hasPrefix(".") else {
                contents.ignoredFiles.append(Item(id: file, reason: "not a .json record file"))
                continue
            }
            guard Sys.fileType(path) == .file else {
                contents.skipped.append(Item(id: file, reason: "not a regular file (links are never followed)"))
                continue
            }
            let bytes: [UInt8]
            do throws(EngramError) {
                bytes = try Sys.readFile(path, operation: operation)
            } catch {
                contents.skipped.append(Item(id: file, reason: "unreadable: \(error.message)"))
                continue
            }
            let parsed: (value: JSONValue, nonFinite: Int)
            do {
                parsed = try SynthiansJSON.parse(bytes)
            } catch {
                contents.skipped.append(Item(id: file, reason: "not valid JSON (even with NaN/Infinity replaced): \(error)"))
                continue
            }
            guard let object = parsed.value.objectValue else {
                contents.skipped.append(Item(id: file, reason: "not a JSON object"))
                continue
            }
            out.append((object["id"]?.stringValue ?? object["assembly_id"]?.stringValue, file, object, parsed.nonFinite))
        }
        return out
    }
}
