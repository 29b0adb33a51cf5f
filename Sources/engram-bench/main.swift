// engram-bench: Engram's figures, each a ratio against a baseline measured in the same run.
//
//   swift build -c release --product engram-bench
//   .build/release/engram-bench [all|writes|open|load|vectors|maintenance] [--count N] [--dir DIR] [--format text|json]

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let options: BenchOptions
do {
    options = try BenchOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    if error.description.isEmpty {
        print(BenchOptions.usage)
        exit(0)
    }
    Progress.say(error.description)
    Progress.say("run with --help for usage")
    exit(64)
}
exit(await BenchmarkRunner.main(options))
