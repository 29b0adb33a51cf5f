import Foundation

/// Locates a Python interpreter that can `import faiss, numpy`.
/// Tried in order: `python3` on PATH, then /usr/bin/python3 (Debian's python3-faiss is
/// installed for the system interpreter only, which a pyenv/venv `python3` on PATH may
/// hide). Setting ENGRAM_PYTHON=/path/to/python uses only that interpreter.
public enum PythonFaiss {
    public static let candidates: [String] = {
        if let env = ProcessInfo.processInfo.environment["ENGRAM_PYTHON"], !env.isEmpty { return [env] }
        return ["python3", "/usr/bin/python3"]
    }()

    public static let interpreter: String? = candidates.first { run($0, ["-c", "import faiss, numpy"])?.status == 0 }

    public static var skipReason: String {
        "Python interop skipped: no Python with faiss and numpy (tried \(candidates.joined(separator: ", ")); install python3-faiss or set ENGRAM_PYTHON)"
    }

    /// Runs `python args...` (resolved through /usr/bin/env), returns exit status and output.
    public static func run(_ python: String, _ args: [String]) -> (status: Int32, stdout: String, stderr: String)? {
        let dir = FileManager.default.temporaryDirectory
        let out = dir.appendingPathComponent("engram-py-\(UUID().uuidString).out")
        let err = dir.appendingPathComponent("engram-py-\(UUID().uuidString).err")
        guard FileManager.default.createFile(atPath: out.path, contents: nil),
              FileManager.default.createFile(atPath: err.path, contents: nil) else { return nil }
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        guard let outHandle = try? FileHandle(forWritingTo: out), let errHandle = try? FileHandle(forWritingTo: err) else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python] + args
        p.standardOutput = outHandle
        p.standardError = errHandle
        var env = ProcessInfo.processInfo.environment
        env["OMP_NUM_THREADS"] = "1"
        p.environment = env
        do { try p.run() } catch { return nil }
        p.waitUntilExit()
        try? outHandle.close()
        try? errHandle.close()
        func contents(_ url: URL) -> String {
            guard let h = try? FileHandle(forReadingFrom: url) else { return "" }
            defer { try? h.close() }
            return String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
        }
        let o = contents(out), e = contents(err)
        return (p.terminationStatus, o, e)
    }
}
