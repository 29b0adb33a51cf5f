import Engram
import EngramIO
import EngramJSON

/// Figure 11, on the large store: `engram backup` as copies (the default: every file its own inode, so damage
/// to the store cannot reach the backup) against the same with `--link` (hard links, the old default), each
/// against the raw file work it cannot avoid, measured in the same run: copying (or linking) every file of the
/// store once, in one thread, then one `syncfs`. Both backups also settle and verify the snapshot (an open that
/// rebuilds its index and vector tier from its records, then a full verify), which the baselines do not.
extension BenchmarkRunner {
    mutating func backupFigures() async throws {
        if largeStore == nil { try await buildLargeStore() }
        guard let large = largeStore else { throw BenchmarkFailure(description: "figure 11 needs the large store") }
        let countText = Format.grouped(large.count)

        Progress.say("figure 11 baseline: copying every file of the \(countText)-memory store in one thread, then syncfs")
        let rawCopy = try Timing.seconds { try Self.rawTree(of: large.path, to: runDirectory + "/raw-copy", link: false) }
        Progress.say("figure 11 baseline: hard-linking every file of the \(countText)-memory store in one thread")
        let rawLink = try Timing.seconds { try Self.rawTree(of: large.path, to: runDirectory + "/raw-link", link: true) }
        report.baselines.append("11: raw copy = Sys.copyFile (FICLONE, else copy_file_range) of every file of memories/, assemblies/, vector_index/ and "
                                + "memory_index.json into a new tree, one after the other in one thread, then one syncfs: \(Format.duration(rawCopy)); "
                                + "raw link = link(2) of the same files: \(Format.duration(rawLink)); neither settles nor verifies anything")

        for (key, mode, baseline, name) in [("11a", BackupMode.copy, rawCopy, "raw copy + syncfs"), ("11b", BackupMode.hardLink, rawLink, "raw link")] {
            Progress.say("figure \(key): engram backup\(mode == .hardLink ? " --link" : "") of the \(countText)-memory store")
            var result: BackupReport?
            let destination = runDirectory + "/backup-" + mode.rawValue
            let seconds = try await Timing.seconds { result = try await StoreSnapshot.backup(store: large.path, to: destination, mode: mode) }
            guard let result, result.verified, result.memories == large.count else {
                throw BenchmarkFailure(description: "figure \(key): the backup holds \(result?.memories ?? -1) memories, verified \(result?.verified ?? false)")
            }
            var figure = Figure(key: key, title: "backup of \(countText) memories, " + (mode == .copy ? "copies (default)" : "hard links (--link)"),
                                measure: .time, engram: seconds, baseline: baseline, baselineName: name, goal: .none)
            figure.notes.append("StoreSnapshot.backup(store:to:mode: .\(mode)): \(Format.grouped(result.files)) files (\(Format.grouped(result.cloned)) cloned, "
                                + "\(Format.grouped(result.copied)) copied, \(Format.grouped(result.linked)) linked, \(Format.grouped(result.bytesCopied)) bytes), "
                                + "then the snapshot settled (index and vector tier rebuilt from its records) and verified; \(result.passes) pass(es)")
            report.figures.append(figure)
        }
    }

    /// Copies (or links) the store's files into `destination` with nothing else: the floor of a backup.
    static func rawTree(of store: String, to destination: String, link: Bool) throws {
        try Sys.mkdir(destination)
        for sub in ["memories", "assemblies", "vector_index"] {
            try Sys.mkdir(destination + "/" + sub)
            for name in (try? Sys.listDirectory(store + "/" + sub)) ?? [] where Sys.fileType(store + "/" + sub + "/" + name) == .file {
                if link { try Sys.link(store + "/" + sub + "/" + name, destination + "/" + sub + "/" + name) } else {
                    _ = try Sys.copyFile(store + "/" + sub + "/" + name, to: destination + "/" + sub + "/" + name)
                }
            }
        }
        if link { try Sys.link(store + "/memory_index.json", destination + "/memory_index.json") } else {
            _ = try Sys.copyFile(store + "/memory_index.json", to: destination + "/memory_index.json")
            try Sys.syncFileSystem(of: destination)
        }
    }
}
