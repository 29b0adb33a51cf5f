/// The outcome of each check, and the closing `N passed, N failed` line.
final class Results {
    private(set) var passed = 0
    private(set) var failed = 0
    private(set) var skipped = 0

    func pass(_ name: String, _ detail: String = "") {
        passed += 1
        print("PASS  \(name)" + (detail.isEmpty ? "" : "  (\(detail))"))
    }

    func fail(_ name: String, _ detail: String) {
        failed += 1
        print("FAIL  \(name): \(detail)")
    }

    /// A scenario this machine cannot run: said loudly, counted, never a silent pass.
    func skip(_ name: String, _ reason: String) {
        skipped += 1
        print("SKIP  \(name): \(reason)")
    }

    func check(_ name: String, _ failures: [String], detail: String = "") {
        if failures.isEmpty { pass(name, detail) } else { fail(name, failures.prefix(8).joined(separator: "; ")) }
    }

    var summary: String { "\(passed) passed, \(failed) failed" + (skipped > 0 ? ", \(skipped) skipped" : "") }
}
