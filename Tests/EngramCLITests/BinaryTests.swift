import Engram
import EngramTestSupport
import EngramIO
import EngramJSON
import Foundation
import Testing

/// The real `engram` executable: stdin, stdout, stderr and exit statuses as a shell sees them.
enum EngramBinary {
    static var path: String? { BuiltExecutable.path("engram") }

    /// `environment`: variables added to (or replacing) this process's environment.
    static func run(_ arguments: [String], stdin: String = "", environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path!)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let input = Pipe(), output = Pipe(), error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}

@Suite("engram executable", .enabled(if: EngramBinary.path != nil, "the engram executable is not built"))
struct BinaryTests {
    @Test("put - reads JSON Lines from stdin and acknowledges each id; exit codes 0, 1, 64")
    func stdinAndExitCodes() throws {
        let dir = TemporaryDirectory()
        let put = try EngramBinary.run(["--store", dir.store, "put", "-"], stdin: """
            {"id": "s1", "content": "from stdin"}
            {"id": "s2", "content": "also"}
            """)
        #expect(put.status == 0, "\(put.stderr)")
        #expect(put.stdout == "{\"id\": \"s1\"}\n{\"id\": \"s2\"}\n")
        let list = try EngramBinary.run(["--store", dir.store, "list"])
        #expect(list.stdout == "s1\ns2\n")
        let env = try EngramBinary.run(["get", "nope", "--store", dir.store])
        #expect(env.status == 1)
        #expect(env.stdout.isEmpty)
        #expect(env.stderr.contains("nope"))
        #expect(try EngramBinary.run(["--no-such-flag"]).status == 64)
    }
}
