import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs `engram-crash-writer` (the workload that prints `ACK` only after the store acknowledged) and stops it
/// abruptly.
public enum CrashWriter {
    /// The executable, found beside the running binary or in the package's debug build folder.
    public static func locate(packageRoot: String? = nil) -> String? {
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/engram-crash-writer"]
        if let packageRoot { candidates.append(packageRoot + "/.build/debug/engram-crash-writer") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts the writer on `store`, waits until it has opened the store, runs `disaster` after `delayMicros`
    /// (e.g. a power cut), kills it with SIGKILL, and returns the complete lines it printed. `prefix`: the
    /// writer's ids and contents carry it, so several writers can share one store.
    public static func run(
        executable: String, store: String, mode: String, seed: UInt64, delayMicros: UInt32, prefix: String = "", disaster: (() -> Void)? = nil
    ) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [store, mode, "1000000", String(seed)]
        // Several writers on one store: each its own ids and contents (see engram-crash-writer).
        if !prefix.isEmpty {
            var environment = ProcessInfo.processInfo.environment
            environment["ENGRAM_CRASH_PREFIX"] = prefix
            process.environment = environment
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        let output = OutputBuffer()
        pipe.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while !output.contains("READY"), process.isRunning, Date() < deadline { usleep(1000) }
        usleep(delayMicros)
        disaster?()
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
        output.append(pipe.fileHandleForReading.readDataToEndOfFile())
        var text = output.text
        // A line cut off by the kill (no newline) was never a complete acknowledgement.
        if !text.hasSuffix("\n"), let cut = text.lastIndex(of: "\n") { text = String(text[...cut]) } else if !text.hasSuffix("\n") { text = "" }
        return text.split(separator: "\n").map(String.init)
    }

    final class OutputBuffer: Sendable {
        private let data = Mutex(Data())
        func append(_ chunk: Data) { data.withLock { $0.append(chunk) } }
        var text: String { String(decoding: data.withLock { $0 }, as: UTF8.self) }
        func contains(_ needle: String) -> Bool { text.contains(needle) }
    }
}
