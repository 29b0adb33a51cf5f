#if !ENGRAM_FUZZ
import Foundation

/// The ordinary build of `engram-fuzz`: `engram-fuzz FILE|DIR…` runs every file (directories are
/// read recursively) through `FuzzCheck`, the function the fuzzer drives, so that each crash the
/// fuzzer once found stays fixed. Exit status 0 when every input passes, 1 when one violates a
/// promise (a crash ends the process with the crash's own status), 64 for bad arguments.
@main
struct RegressionRunner {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard !arguments.isEmpty, !arguments.contains(where: { $0.hasPrefix("-") }) else {
            FileHandle.standardError.write(Data("usage: engram-fuzz FILE|DIR…\n".utf8))
            exit(64)
        }
        var checked = 0
        var failed = 0
        for argument in arguments {
            guard let files = inputFiles(argument) else {
                FileHandle.standardError.write(Data("engram-fuzz: \(argument): no such file or directory\n".utf8))
                exit(64)
            }
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("engram-fuzz: \(file): cannot read\n".utf8))
                    exit(1)
                }
                checked += 1
                if let problem = FuzzCheck.check([UInt8](data)) {
                    failed += 1
                    FileHandle.standardError.write(Data("engram-fuzz: \(file): \(problem)\n".utf8))
                }
            }
        }
        // The count goes to stdout so callers (and the test) can see every input was run.
        print("\(checked) inputs checked, \(failed) failed")
        exit(failed == 0 ? 0 : 1)
    }

    /// The file itself, or every regular file under the directory in a stable order; nil if missing.
    static func inputFiles(_ path: String) -> [String]? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { return [path] }
        let names = FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []
        return names.sorted().map { path + "/" + $0 }.filter {
            var dir: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &dir) && !dir.boolValue
        }
    }
}
#endif
