import EngramIO
import EngramTestSupport
import Foundation
import Testing

@Suite("File engine")
struct FileEngineTests {
    @Test("an atomic write replaces the file and leaves no temp file")
    func atomicWrite() async throws {
        let scratch = TemporaryDirectory()
        let engine = FileEngine()
        try await engine.writeAtomically(PendingFile(directory: scratch.path, name: "a.json", bytes: Array("one".utf8)))
        try await engine.writeAtomically(PendingFile(directory: scratch.path, name: "a.json", bytes: Array("two".utf8)))
        #expect(scratch.read("a.json") == "two")
        #expect(scratch.names == ["a.json"])
        // A large file is written whole (short writes are looped over).
        let big = [UInt8](repeating: 0x61, count: 5 << 20)
        try await engine.writeAtomically(PendingFile(directory: scratch.path, name: "big", bytes: big))
        #expect(try Sys.readFile(scratch.path + "/big") == big)
    }

    @Test("64 concurrent writes share directory fsyncs (group commit) and all land")
    func groupCommit() async throws {
        let scratch = TemporaryDirectory()
        let engine = FileEngine()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<64 {
                group.addTask {
                    try await engine.writeAtomically(PendingFile(directory: scratch.path, name: "f\(i)", bytes: Array("content \(i)".utf8)))
                }
            }
            try await group.waitForAll()
        }
        for i in 0..<64 { #expect(scratch.read("f\(i)") == "content \(i)") }
        let stats = engine.statistics
        #expect(stats.directorySyncRequests == 64)
        #expect(stats.directoryFsyncs < 64, "64 writers in flight must share directory fsyncs, got \(stats.directoryFsyncs)")
        #expect(stats.directoryFsyncs >= 1)
    }

    @Test("a symlink planted at the temp file's name is not followed: the write fails, the target is untouched")
    func plantedSymlink() async throws {
        let scratch = TemporaryDirectory()
        let outside = TemporaryDirectory("outside")
        _ = FileManager.default.createFile(atPath: outside.path + "/victim", contents: Data("precious".utf8))
        let file = PendingFile(directory: scratch.path, name: "a.json", bytes: Array("evil".utf8), temporaryName: ".a.json.1234.tmp")
        try FileManager.default.createSymbolicLink(atPath: file.temporaryPath, withDestinationPath: outside.path + "/victim")
        let error = await #expect(throws: EngramError.self) { try await FileEngine().writeAtomically(file) }
        #expect(error?.code == .alreadyExists)
        #expect(outside.read("victim") == "precious")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/a.json"))
        // Reading through a symlink is refused too.
        try FileManager.default.createSymbolicLink(atPath: scratch.path + "/link.json", withDestinationPath: outside.path + "/victim")
        let readError = #expect(throws: EngramError.self) { try Sys.readFile(scratch.path + "/link.json") }
        #expect(readError?.code == .symlinkRefused)
    }

    @Test("readMany returns one result per path, in order, failures included")
    func readMany() async throws {
        let scratch = TemporaryDirectory()
        for i in 0..<100 { _ = FileManager.default.createFile(atPath: scratch.path + "/f\(i)", contents: Data("\(i)".utf8)) }
        var paths = (0..<100).map { scratch.path + "/f\($0)" }
        paths.insert(scratch.path + "/missing", at: 50)
        let results = await FileEngine().readMany(paths)
        #expect(results.count == 101)
        for (i, r) in results.enumerated() {
            if i == 50 {
                guard case .failure(let e) = r else { Issue.record("expected a failure"); continue }
                #expect(e.code == .notFound)
            } else {
                let n = i < 50 ? i : i - 1
                #expect((try? r.get()) == Array("\(n)".utf8))
            }
        }
    }

    @Test("readFile refuses oversized files")
    func maxSize() throws {
        let scratch = TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: scratch.path + "/big", contents: Data(count: 2000))
        let error = #expect(throws: EngramError.self) { try Sys.readFile(scratch.path + "/big", maxSize: 1000) }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("2000") == true)
    }

    @Test("the append-only file group-commits concurrent appends and keeps every line whole")
    func appendOnlyFile() async throws {
        let scratch = TemporaryDirectory()
        let log = try AppendOnlyFile(path: scratch.path + "/log", loop: .shared)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 { group.addTask { try await log.append(Array("line \(i)\n".utf8)) } }
            try await group.waitForAll()
        }
        let lines = (scratch.read("log") ?? "").split(separator: "\n")
        #expect(lines.count == 200)
        #expect(Set(lines.map(String.init)) == Set((0..<200).map { "line \($0)" }))
        #expect(log.syncCount < 200, "concurrent appends must share fdatasyncs")
        try await log.reset()
        #expect(scratch.read("log") == "")
        if FaultInjector.isAvailable {
            FaultInjector.shared.arm(.init(syscall: .write, errno: ENOSPC, pathContains: scratch.path))
            await #expect(throws: EngramError.self) { try await log.append(Array("lost\n".utf8)) }
            FaultInjector.shared.disarm(scope: scratch.path)
            try await log.append(Array("kept\n".utf8))
            #expect(scratch.read("log") == "kept\n")
        }
        log.close()
    }

    @Test("errors name the call, the path, the errno and a remedy")
    func errorDescriptions() {
        let error = EngramError.system("open", errno: EACCES, path: "/store/memories/a.json", operation: "save memory")
        #expect(error.code == .permissionDenied)
        #expect(error.description.contains("save memory"))
        #expect(error.description.contains("/store/memories/a.json"))
        #expect(error.description.contains("EACCES"))
        #expect(error.remedy?.contains("chmod") == true)
        #expect(EngramError.system("fsync", errno: ENOSPC, path: "/x").code == .noSpace)
        #expect(EngramError.system("rename", errno: EROFS, path: "/x").code == .readOnlyFileSystem)
    }
}
