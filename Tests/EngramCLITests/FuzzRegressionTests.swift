import Foundation
import Testing

/// Replays what the fuzzer found (Tests/Fuzz/crashes) and the seeds (Tests/Fuzz/seeds) through the
/// ordinary build of `engram-fuzz`: the same check the libFuzzer build runs (JSON reader, printer round
/// trip, record decoders), so a crash that was fixed stays fixed. It runs as a separate process because
/// a regression is most likely a trap, which would otherwise take the whole test run down.
@Suite("fuzz regressions")
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static var binary: String? {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        return [runner + "/engram-fuzz", root + "/.build/debug/engram-fuzz"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(binary, "engram-fuzz is not built (swift build --build-tests builds it)"))
        process.arguments = arguments
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    static func fileCount(_ directory: String) -> Int {
        (FileManager.default.enumerator(atPath: directory)?.allObjects.count) ?? 0
    }

    @Test("every saved crash and every seed passes the fuzz check")
    func replay() throws {
        let crashes = Self.root + "/Tests/Fuzz/crashes"
        let seeds = Self.root + "/Tests/Fuzz/seeds"
        let result = try Self.run([crashes, seeds])
        #expect(result.status == 0, "\(result.stderr)")
        // Every file was run, none skipped.
        let expected = Self.fileCount(crashes) + Self.fileCount(seeds)
        #expect(expected > 0)
        #expect(result.stdout == "\(expected) inputs checked, 0 failed\n", "\(result.stdout)")
    }

    @Test("the runner refuses a missing input rather than passing")
    func missingInput() throws {
        let result = try Self.run([Self.root + "/Tests/Fuzz/no-such-directory"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("no such file"))
    }
}
