import Engram
import EngramIO
import EngramJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the figures depend on: the build, the CPU, the kernel, the file system under the bench directory.
struct MachineFacts: Sendable {
    struct Fact: Sendable {
        /// The key in the JSON report.
        let key: String
        /// The label in the text report.
        let label: String
        let value: String
    }

    var facts: [Fact] = []
    /// An ext3/ext4 file system without a journal (its inode allocator skips recently freed inodes).
    var hasNoJournal = false

    mutating func add(_ key: String, _ label: String, _ value: String) {
        facts.append(Fact(key: key, label: label, value: value))
    }

    static var isReleaseBuild: Bool {
        #if DEBUG
        return false
        #else
        return true
        #endif
    }

    static func collect(benchDirectory: String) -> MachineFacts {
        var m = MachineFacts()
        m.add("build", "build", isReleaseBuild ? "release" : "DEBUG (figures are meaningless; build with -c release)")
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        m.add("cores", "cores", "\(cores)" + (cpuModel().map { " × \($0)" } ?? ""))
        if let memory = memoryTotal() { m.add("memory", "memory", memory) }
        m.add("kernel", "kernel", kernel())
        if let load = readText("/proc/loadavg")?.split(separator: " ").prefix(3).joined(separator: " ") {
            m.add("load_average", "load average", load + " (1, 5, 15 min, at start; other work on the machine skews the figures)")
        }
        m.add("bench_dir", "bench dir", benchDirectory)
        let statType = shell("stat -f -c %T " + shellQuoted(benchDirectory)) ?? "unknown"
        m.add("filesystem", "file system", statType + " (stat -f -c %T)")
        if let mount = mountOf(benchDirectory) {
            m.add("mount", "mount", "\(mount.type) on \(mount.device) at \(mount.point) (\(mount.options))")
            if mount.type == "ext4" || mount.type == "ext3" {
                let device = mount.device.split(separator: "/").last.map(String.init) ?? mount.device
                let journals = (try? Sys.listDirectory("/proc/fs/jbd2")) ?? []
                m.hasNoJournal = !journals.contains { $0.hasPrefix(device + "-") }
                m.add("journal", "fs journal", m.hasNoJournal ? "none (no /proc/fs/jbd2/\(device)-*)" : "jbd2")
            }
        }
        return m
    }

    // MARK: Sources

    private static func cpuModel() -> String? {
        guard let text = readText("/proc/cpuinfo") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmed }
        }
        return nil
    }

    private static func memoryTotal() -> String? {
        guard let text = readText("/proc/meminfo"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
              let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return Format.fixed(kib / 1_048_576, 1) + " GiB"
    }

    private static func kernel() -> String {
        var name = utsname()
        guard uname(&name) == 0 else { return "unknown" }
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return "\(field(name.sysname)) \(field(name.release)) \(field(name.version)) \(field(name.machine))"
    }

    /// The `/proc/mounts` entry with the longest mount point that contains `path` (resolved).
    private static func mountOf(_ path: String) -> (device: String, point: String, type: String, options: String)? {
        guard let text = readText("/proc/mounts"), let resolved = realpath(path, nil) else { return nil }
        let real = String(cString: resolved)
        free(resolved)
        var best: (device: String, point: String, type: String, options: String)?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 4 else { continue }
            let point = fields[1]
            let contains = point == "/" || real == point || real.hasPrefix(point + "/")
            if contains, point.count >= (best?.point.count ?? -1) { best = (fields[0], point, fields[2], fields[3]) }
        }
        return best
    }

    // MARK: Helpers

    /// Reads a text file to its end (files in /proc report a size of 0, so no fstat-sized read).
    static func readText(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        return readAll(file)
    }

    private static func readAll(_ file: UnsafeMutablePointer<FILE>) -> String {
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            output.append(contentsOf: buffer[..<n])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Runs a shell command and returns its trimmed standard output (nil if it could not run or failed).
    static func shell(_ command: String) -> String? {
        guard let pipe = popen(command + " 2>/dev/null", "r") else { return nil }
        let output = readAll(pipe)
        guard pclose(pipe) == 0 else { return nil }
        return output.trimmed
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}

extension StringProtocol {
    var trimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
