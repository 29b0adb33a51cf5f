import Synchronization

/// Debug-only fault injection for the syscall layer, in the spirit of swift-nio's file system mocking.
///
/// Tests arm a rule ("the 3rd `fsync` fails with EIO") and the next matching call made through ``Sys``
/// returns that errno instead of reaching the kernel. This is how ENOSPC and EIO paths are tested without
/// a broken disk. In release builds ``check(_:path:)`` is compiled to `nil` and costs nothing.
package final class FaultInjector: Sendable {
    /// One armed fault.
    package struct Rule: Sendable {
        package var syscall: Syscall
        /// Fail the `nth` matching call (1-based), counted from when the rule was armed.
        package var nth: Int
        package var errno: Int32
        /// Only calls whose path contains this string match (nil: every path).
        package var pathContains: String?
        /// Only calls whose path ends with this string match (nil: every path) — e.g. a directory's fsync.
        package var pathSuffix: String?
        /// Keep failing every matching call from the `nth` on (a full disk), instead of once.
        package var sticky: Bool

        package init(syscall: Syscall, nth: Int = 1, errno: Int32, pathContains: String? = nil, pathSuffix: String? = nil, sticky: Bool = false) {
            self.pathSuffix = pathSuffix
            self.syscall = syscall
            self.nth = nth
            self.errno = errno
            self.pathContains = pathContains
            self.sticky = sticky
        }
    }

    private struct State {
        var rules: [(rule: Rule, seen: Int, token: Int)] = []
        var nextToken = 0
        var fired: Set<Int> = []
        var counts: [Syscall: Int] = [:]
        var injected = 0
    }

    private let state = Mutex(State())

    /// The process-wide injector that ``Sys`` consults.
    package static let shared = FaultInjector()

    /// Whether injection is compiled in (debug builds only).
    package static var isAvailable: Bool {
        #if DEBUG
        true
        #else
        false
        #endif
    }

    /// Arms a rule; the returned token tells later whether it fired (``fired(_:)``).
    @discardableResult
    package func arm(_ rule: Rule) -> Int {
        state.withLock {
            $0.nextToken += 1
            $0.rules.append((rule, 0, $0.nextToken))
            return $0.nextToken
        }
    }

    /// Whether the rule armed with `token` injected a fault.
    package func fired(_ token: Int) -> Bool { state.withLock { $0.fired.contains(token) } }

    /// Removes every rule and resets the counters.
    package func reset() {
        state.withLock { $0 = State() }
    }

    /// Removes the rules whose path filter contains `scope` (a test's own directory), leaving other tests' rules.
    package func disarm(scope: String) {
        state.withLock { $0.rules.removeAll { ($0.rule.pathContains ?? "").contains(scope) } }
    }

    /// How many calls of each kind went through ``Sys`` since the last reset (debug builds only).
    package func count(_ call: Syscall) -> Int {
        state.withLock { $0.counts[call, default: 0] }
    }

    /// How many faults were injected since the last reset.
    package var injectedCount: Int { state.withLock { $0.injected } }

    /// Returns the errno to fail this call with, or nil to let it through.
    @inline(__always)
    package func check(_ call: Syscall, path: String?) -> Int32? {
        #if DEBUG
        return state.withLock { state -> Int32? in
            state.counts[call, default: 0] += 1
            guard !state.rules.isEmpty else { return nil }
            for index in state.rules.indices {
                let rule = state.rules[index].rule
                guard rule.syscall == call else { continue }
                if let needle = rule.pathContains, !(path ?? "").contains(needle) { continue }
                if let suffix = rule.pathSuffix, !(path ?? "").hasSuffix(suffix) { continue }
                state.rules[index].seen += 1
                let seen = state.rules[index].seen
                if seen == rule.nth || (rule.sticky && seen > rule.nth) {
                    state.injected += 1
                    state.fired.insert(state.rules[index].token)
                    return rule.errno
                }
            }
            return nil
        }
        #else
        return nil
        #endif
    }
}
