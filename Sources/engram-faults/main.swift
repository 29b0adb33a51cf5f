// engram-faults: the crash and fault suite (issue: prove crash safety and fault handling).
//
//   swift build && .build/debug/engram-faults            # the CI variant
//   ENGRAM_FAULTS_LONG=1 .build/debug/engram-faults      # the long variant (5× the iterations)
//   ENGRAM_FAULTS_KILLS=N ENGRAM_FAULTS_POWER_CUTS=N      # explicit iteration counts
//
// Prints one line per check and closes with `N passed, N failed[, N skipped]`; exits 1 if anything failed.
// Scenarios that need root (mounts, setpriv) say SKIP with the reason when they cannot run.
import Engram
import EngramIO
import EngramJSON
import EngramFaultSuite
import Foundation

#if canImport(Glibc)
import Glibc
#endif

let environment = ProcessInfo.processInfo.environment
let long = environment["ENGRAM_FAULTS_LONG"] == "1"
let scale = long ? 5 : 1
// Overrides for a quick local look (the CI variant uses the defaults).
let kills = Int(environment["ENGRAM_FAULTS_KILLS"] ?? "") ?? 200 * scale
let powerCuts = Int(environment["ENGRAM_FAULTS_POWER_CUTS"] ?? "") ?? 50 * scale
let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
guard let writer = CrashWriter.locate(), FileManager.default.isExecutableFile(atPath: here + "/engram"),
      FileManager.default.isExecutableFile(atPath: here + "/engram-graph") else {
    print("engram-faults: build the package first (engram, engram-graph and engram-crash-writer must be beside this executable)")
    exit(2)
}
let workspace = Workspace()
let results = Results()
print("engram fault suite (\(long ? "long" : "CI") variant) in \(workspace.root)")
let started = Date()
await KillNineScenario(iterations: kills, writer: writer, workspace: workspace).run(results)
await SharedWritersKillScenario(iterations: max(4, kills / 20), writer: writer, workspace: workspace).run(results)
await PowerCutScenario(iterations: powerCuts, writers: 1, writer: writer, workspace: workspace).run(results)
for writers in [2, 4] { await PowerCutScenario(iterations: max(6, powerCuts / 5), writers: writers, writer: writer, workspace: workspace).run(results) }
await GraphPowerCutScenario(iterations: 20 * scale, builder: here + "/engram-graph", workspace: workspace).run(results)
await FullDiskScenario(workspace: workspace).run(results)
await PermissionScenario(engram: here + "/engram", workspace: workspace).run(results)
await HostileInputScenario(workspace: workspace).run(results)
print("(the syscall fault sweep — every write, fsync, rename and open failing once with ENOSPC then EIO — runs in `swift test`, FaultInjectionTests)")
print(String(format: "fault suite took %.0f s", Date().timeIntervalSince(started)))
workspace.remove()
print(results.summary)
exit(results.failed > 0 ? 1 : 0)
