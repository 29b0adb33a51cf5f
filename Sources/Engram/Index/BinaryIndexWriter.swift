import EngramIO

/// Writes `memory_index.bin` from a ``CentralIndex`` (layout in docs/FORMAT.md; read by ``BinaryIndexFile``).
///
/// It is derived data: written after `memory_index.json` at each checkpoint (and by a writer's open that found it
/// missing, stale or damaged), tagged with the identity of the JSON it was made from. Temp file, fsync, rename,
/// directory fsync, like every file of the store — although a lost or torn one would only cost one JSON parse.
enum BinaryIndexWriter {
    /// Writes the binary form of `index` (which must be what the JSON identified by `source` holds) beside it.
    static func write(_ index: CentralIndex, source: IndexFileIdentity, directory: String) throws(EngramError) {
        let path = directory + "/" + BinaryIndexFile.fileName
        let operation = "write binary index"
        var blob: [UInt8] = []
        var memoryTable: [UInt8] = []
        memoryTable.reserveCapacity(index.memories.count * BinaryIndexFile.entrySize)
        blob.reserveCapacity(index.memories.count * 40)
        func tooLarge() -> EngramError {
            EngramError(code: .io, message: "the index is too large for the binary form (over 4 GiB of ids)", operation: operation, path: path,
                        remedy: "nothing to do: open parses memory_index.json instead")
        }
        func appendID(_ id: String, to table: inout [UInt8]) throws(EngramError) {
            guard blob.count <= Int(UInt32.max), id.utf8.count <= Int(UInt16.max) else { throw tooLarge() }
            table.append(UInt32(blob.count))
            table.append(UInt16(id.utf8.count))
            blob.append(contentsOf: id.utf8)
        }
        // Iteration is in id byte order: the order lookups binary-search.
        for (id, e) in index.memories {
            try appendID(id, to: &memoryTable)
            let inline = MemoryIndexEntry.inlineHash(e.contentHash)
            memoryTable.append((e.dimension != nil ? MappedEntryFlags.hasDimension : 0) | (inline != nil ? MappedEntryFlags.inlineHash : 0))
            memoryTable.append(UInt8(0))
            memoryTable.append(UInt32(truncatingIfNeeded: e.dimension ?? 0))
            if let inline {
                memoryTable.append(UInt32(0))
                memoryTable.append(UInt64(bitPattern: e.createdAt.microseconds))
                memoryTable.append(UInt64(bitPattern: e.updatedAt.microseconds))
                memoryTable.append(e.quickrecalScore.bitPattern)
                memoryTable.append(inline)
            } else {
                memoryTable.append(UInt32(e.contentHash.utf8.count))
                memoryTable.append(UInt64(bitPattern: e.createdAt.microseconds))
                memoryTable.append(UInt64(bitPattern: e.updatedAt.microseconds))
                memoryTable.append(e.quickrecalScore.bitPattern)
                memoryTable.append(UInt64(blob.count))
                blob.append(contentsOf: e.contentHash.utf8)
            }
        }
        var assemblyTable: [UInt8] = []
        for (id, e) in index.assemblies {
            try appendID(id, to: &assemblyTable)
            assemblyTable.append(e.dimension != nil ? MappedEntryFlags.hasDimension : 0)
            assemblyTable.append(UInt8(0))
            assemblyTable.append(UInt32(truncatingIfNeeded: e.dimension ?? 0))
            assemblyTable.append(UInt32(e.memoryIds.count))
            assemblyTable.append(UInt64(bitPattern: e.createdAt.microseconds))
            assemblyTable.append(UInt64(bitPattern: e.updatedAt.microseconds))
            assemblyTable.append(UInt64(blob.count))
            assemblyTable.append(UInt64(0))
            for member in e.memoryIds {
                guard member.utf8.count <= Int(UInt16.max) else { throw tooLarge() }
                blob.append(UInt16(member.utf8.count))
                blob.append(contentsOf: member.utf8)
            }
        }
        let memoryCount = index.memories.count, assemblyCount = index.assemblies.count
        precondition(memoryTable.count == memoryCount * BinaryIndexFile.entrySize && assemblyTable.count == assemblyCount * BinaryIndexFile.entrySize)

        var header: [UInt8] = BinaryIndexFile.magic
        header.append(BinaryIndexFile.fileVersion)
        header.append(UInt32(BinaryIndexFile.headerSize))
        header.append(UInt32(BinaryIndexFile.entrySize))
        header.append(UInt32(index.formatVersion) ?? 0)
        header.append(UInt64(memoryCount))
        header.append(UInt64(assemblyCount))
        header.append(UInt64(bitPattern: index.journalSequence))
        header.append(UInt64(bitPattern: Int64(index.embeddingDimension ?? -1)))
        header.append(source.size)
        header.append(UInt64(bitPattern: source.mtimeNanoseconds))
        header.append(source.inode)
        let assemblyOffset = BinaryIndexFile.headerSize + memoryTable.count
        header.append(UInt64(BinaryIndexFile.headerSize))
        header.append(UInt64(assemblyOffset))
        header.append(UInt64(assemblyOffset + assemblyTable.count))
        header.append(UInt64(blob.count))
        header.append(UInt64(index.memories.withDimension))
        header.append(UInt64(index.assemblies.withDimension))
        header.append(contentsOf: [UInt8](repeating: 0, count: BinaryIndexFile.headerSize - header.count))

        let temporary = directory + "/" + Sys.temporaryName(for: BinaryIndexFile.fileName)
        var writer = try HashingFileWriter(path: temporary, operation: operation)
        do {
            for part in [header, memoryTable, assemblyTable, blob] { try writer.write(part) }
            var trailer: [UInt8] = []
            trailer.append(writer.currentHash)
            try writer.write(trailer)
        } catch {
            writer.abandon()
            _ = try? Sys.unlink(temporary)
            throw error
        }
        do {
            _ = try writer.finish()
            try Sys.rename(temporary, path, operation: operation)
        } catch {
            _ = try? Sys.unlink(temporary)
            throw error
        }
        try Sys.fsyncDirectory(directory, operation: operation)
    }
}

private extension [UInt8] {
    mutating func append<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
