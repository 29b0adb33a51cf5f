import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Data-parallel loops over `0..<count` on a fixed number of workers, with dynamic chunking.
///
/// Why Dispatch's `concurrentPerform` and not tasks: the build is CPU-bound C-kernel work on raw
/// buffers, and each worker needs a stable index to own its scratch memory.
enum Parallel {
    /// The number of online cores.
    static var cores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Calls `body(worker, i)` once for every `i` in `0..<count`, from `workers` threads; `worker` is in
    /// `0..<workers` and never used by two threads at once.
    static func forEach(_ count: Int, workers: Int, chunk: Int = 1, _ body: @Sendable (_ worker: Int, _ i: Int) -> Void) {
        if count == 0 { return }
        let w = max(1, min(workers, (count + chunk - 1) / chunk))
        if w == 1 {
            for i in 0..<count { body(0, i) }
            return
        }
        let next = Counter()
        DispatchQueue.concurrentPerform(iterations: w) { worker in
            while true {
                let start = next.value.add(chunk, ordering: .relaxed).oldValue
                if start >= count { break }
                for i in start..<min(count, start + chunk) { body(worker, i) }
            }
        }
    }

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }
}

/// A raw pointer that may cross threads: the algorithms that use it partition the memory between workers
/// (each writes only its own rows), which the compiler cannot see.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
    init(_ base: UnsafeMutablePointer<T>) { self.base = base }
    subscript(i: Int) -> T {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}
