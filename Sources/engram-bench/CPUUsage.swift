#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How much CPU a phase got: this process's user + system time (`getrusage`), and how busy the whole machine was
/// (`/proc/stat`, Linux only), so that a slow figure can be told apart from a machine busy with other work.
struct CPUUsage {
    let wall: ContinuousClock.Instant
    let process: Double
    let machine: (busy: Int, total: Int)?

    static func now() -> CPUUsage {
        CPUUsage(wall: ContinuousClock.now, process: processSeconds(), machine: machineJiffies())
    }

    /// "used 1.62 cores of 2 (user+sys 12.9 s over 8.0 s); the machine was 95% busy".
    func summary(since start: CPUUsage, cores: Int) -> String {
        let wallSeconds = (wall - start.wall).seconds
        let cpu = process - start.process
        var text = "this process used \(Format.fixed(cpu / wallSeconds, 2)) cores of \(cores) (user+sys \(Format.duration(cpu)) over \(Format.duration(wallSeconds)) wall)"
        if let now = machine, let then = start.machine, now.total > then.total {
            let busy = Double(now.busy - then.busy) / Double(now.total - then.total)
            let others = max(0, busy * Double(cores) - cpu / wallSeconds)
            text += "; the machine was \(Format.fixed(busy * 100, 0))% busy (/proc/stat), about \(Format.fixed(others, 2)) cores of it other work"
        }
        return text
    }

    static var cores: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    private static func processSeconds() -> Double {
        guard let usage = Timing.processUsage() else { return 0 }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The first line of `/proc/stat`: (busy, total) jiffies over all CPUs; busy excludes idle and iowait.
    private static func machineJiffies() -> (busy: Int, total: Int)? {
        guard let file = fopen("/proc/stat", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 512)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let fields = line.split(separator: " ").dropFirst().compactMap { Int($0.filter { $0 != "\n" }) }
        guard line.hasPrefix("cpu "), fields.count >= 5 else { return nil }
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        let total = fields.prefix(8).reduce(0, +)
        return (total - fields[3] - fields[4], total)
    }
}
