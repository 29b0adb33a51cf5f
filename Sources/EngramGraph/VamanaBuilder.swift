import CEngramKernels

#if canImport(Glibc)
import Glibc
#endif

/// The Vamana construction (DiskANN, Subramanya et al. 2019) with ParlayANN's batch-parallel insertion:
/// points are inserted in batches of doubling size; within a batch every point runs GreedySearch and
/// RobustPrune against the graph as it was before the batch (so workers never see a half-updated list),
/// then the back edges are grouped by target and each target is updated by one worker.
///
/// Why this shape: no locks, and the graph depends only on the seed and the parameters, not on the
/// thread count or the scheduling.
final class VamanaBuilder: @unchecked Sendable {
    let count: Int
    let dimension: Int
    let degree: Int
    let complexity: Int
    let workers: Int
    /// Row-major input vectors (borrowed from the caller for the builder's lifetime).
    let data: UnsafePointer<Float>
    /// `count × degree` neighbour ids; row `i` holds `degrees[i]` valid entries.
    let neighbours: UnsafeMutablePointer<Int32>
    let degrees: UnsafeMutablePointer<Int32>
    private(set) var medoid: Int32 = 0
    private var scratch: [Scratch]

    init(data: UnsafePointer<Float>, count: Int, dimension: Int, degree: Int, complexity: Int, workers: Int) {
        self.data = data
        self.count = count
        self.dimension = dimension
        self.degree = degree
        self.complexity = max(complexity, degree)
        self.workers = workers
        neighbours = .allocate(capacity: max(1, count * degree))
        degrees = .allocate(capacity: max(1, count))
        degrees.initialize(repeating: 0, count: max(1, count))
        scratch = (0..<workers).map { _ in Scratch(count: count, listSize: max(complexity, degree)) }
    }

    deinit {
        neighbours.deallocate()
        degrees.deallocate()
    }

    @inline(__always) func vector(_ i: Int32) -> UnsafePointer<Float> { data + Int(i) * dimension }

    // MARK: Medoid

    /// The point nearest the mean: the search entry point (DiskANN's medoid approximation).
    func computeMedoid() {
        let d = dimension
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<count {
            let row = data + i * d
            for c in 0..<d { mean[c] += Double(row[c]) }
        }
        let centre = mean.map { Float($0 / Double(max(1, count))) }
        let best = UnsafeMutablePointer<(Float, Int32)>.allocate(capacity: workers)
        best.initialize(repeating: (.infinity, 0), count: workers)
        defer { best.deallocate() }
        let shared = SharedPointer(best)
        centre.withUnsafeBufferPointer { c in
            let cp = SharedPointer(UnsafeMutablePointer(mutating: c.baseAddress!))
            Parallel.forEach(count, workers: workers, chunk: 1024) { w, i in
                let dist = engram_l2sq(cp.base, self.data + i * d, d)
                if dist < shared[w].0 || (dist == shared[w].0 && Int32(i) < shared[w].1) { shared[w] = (dist, Int32(i)) }
            }
        }
        var winner: (Float, Int32) = (.infinity, 0)
        for w in 0..<workers where best[w].0 < winner.0 || (best[w].0 == winner.0 && best[w].1 < winner.1) { winner = best[w] }
        medoid = winner.1
    }

    // MARK: One pass

    /// Inserts every point (in `order`) with RobustPrune parameter `alpha`. `progress(done)` is called
    /// after each batch from the calling thread.
    func pass(order: [Int32], alpha: Float, progress: (Int) -> Void) {
        let maxBatch = max(1, min(count / 50, 4096))  // ParlayANN: at most ~2 % of the points per batch
        var done = 0
        var batchSize = 1
        let batchOut = UnsafeMutablePointer<Int32>.allocate(capacity: maxBatch * degree)
        let batchDeg = UnsafeMutablePointer<Int32>.allocate(capacity: maxBatch)
        defer { batchOut.deallocate(); batchDeg.deallocate() }
        let outShared = SharedPointer(batchOut), degShared = SharedPointer(batchDeg)
        while done < order.count {
            let size = min(batchSize, order.count - done)
            let start = done
            order.withUnsafeBufferPointer { ord in
                let ordp = SharedPointer(UnsafeMutablePointer(mutating: ord.baseAddress!))
                // 1. Search and prune against the graph as it stands.
                Parallel.forEach(size, workers: workers) { w, b in
                    let p = ordp[start + b]
                    let s = self.scratch[w]
                    self.greedySearch(self.vector(p), scratch: s)
                    // The pool: every expanded node plus p's current neighbours.
                    s.pool.removeAll(keepingCapacity: true)
                    for e in 0..<s.expandedCount where s.expandedIds[e] != p {
                        s.pool.append(Candidate(distance: s.expandedDistances[e], id: s.expandedIds[e]))
                    }
                    self.appendCurrentNeighbours(of: p, to: s)
                    let kept = self.robustPrune(p, scratch: s, alpha: alpha, into: outShared.base + b * self.degree)
                    degShared[b] = Int32(kept)
                }
            }
            // 2. Publish the new out-lists, and collect the back edges (target, source).
            var edges: [UInt64] = []
            edges.reserveCapacity(size * degree)
            for b in 0..<size {
                let p = order[start + b]
                let k = Int(batchDeg[b])
                (neighbours + Int(p) * degree).update(from: batchOut + b * degree, count: k)
                degrees[Int(p)] = Int32(k)
                for e in 0..<k {
                    edges.append(UInt64(UInt32(batchOut[b * degree + e])) << 32 | UInt64(UInt32(p)))
                }
            }
            // 3. Back edges, grouped by target so each target is updated by one worker.
            edges.sort()
            var groups: [Int] = []  // start index of each target's run
            for i in 0..<edges.count where i == 0 || edges[i] >> 32 != edges[i - 1] >> 32 { groups.append(i) }
            groups.append(edges.count)
            edges.withUnsafeBufferPointer { eb in
                let ep = SharedPointer(UnsafeMutablePointer(mutating: eb.baseAddress!))
                groups.withUnsafeBufferPointer { gb in
                    let gp = SharedPointer(UnsafeMutablePointer(mutating: gb.baseAddress!))
                    Parallel.forEach(gb.count - 1, workers: workers, chunk: 8) { w, g in
                        let lo = gp[g], hi = gp[g + 1]
                        let target = Int32(truncatingIfNeeded: ep[lo] >> 32)
                        self.addBackEdges(target, sources: (lo..<hi).map { Int32(truncatingIfNeeded: ep[$0] & 0xFFFF_FFFF) }, alpha: alpha, scratch: self.scratch[w])
                    }
                }
            }
            done += size
            batchSize = min(maxBatch, batchSize * 2)
            progress(done)
        }
    }

    // MARK: GreedySearch

    /// DiskANN's GreedySearch from the medoid with list size L; leaves the expanded nodes (and their
    /// distances to `query`) in `scratch.expanded*`.
    func greedySearch(_ query: UnsafePointer<Float>, scratch s: Scratch) {
        let d = dimension, L = complexity
        s.nextEpoch()
        s.listCount = 0
        s.expandedCount = 0
        let start = medoid
        s.stamp[Int(start)] = s.epoch
        s.insert(distance: engram_l2sq(query, vector(start), d), id: start, limit: L)
        var cur = 0
        while cur < s.listCount {
            s.listExpanded[cur] = true
            let node = s.listIds[cur]
            s.appendExpanded(node, s.listDistances[cur])
            let deg = Int(degrees[Int(node)])
            let row = neighbours + Int(node) * degree
            var fresh = 0
            for e in 0..<deg {
                let j = row[e]
                if s.stamp[Int(j)] == s.epoch { continue }
                s.stamp[Int(j)] = s.epoch
                s.idBuffer[fresh] = j
                fresh += 1
            }
            engram_l2sq_ids(query, data, d, s.idBuffer, fresh, s.distanceBuffer)
            var lowest = cur + 1
            for e in 0..<fresh {
                let pos = s.insert(distance: s.distanceBuffer[e], id: s.idBuffer[e], limit: L)
                if pos >= 0 && pos < lowest { lowest = pos }
            }
            cur = lowest
            while cur < s.listCount && s.listExpanded[cur] { cur += 1 }
        }
    }

    // MARK: RobustPrune

    private func appendCurrentNeighbours(of p: Int32, to s: Scratch) {
        let deg = Int(degrees[Int(p)])
        if deg == 0 { return }
        let row = neighbours + Int(p) * degree
        engram_l2sq_ids(vector(p), data, dimension, row, deg, s.distanceBuffer)
        for e in 0..<deg where row[e] != p { s.pool.append(Candidate(distance: s.distanceBuffer[e], id: row[e])) }
    }

    /// RobustPrune(p, pool, α, R): closest first; a kept neighbour c removes every candidate c' with
    /// α·d(c, c') ≤ d(p, c'). Writes the kept ids to `out`, returns how many.
    func robustPrune(_ p: Int32, scratch s: Scratch, alpha: Float, into out: UnsafeMutablePointer<Int32>) -> Int {
        s.pool.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
        // Remove duplicates (same id, same distance: adjacent after the sort).
        var unique = 0
        for i in 0..<s.pool.count where i == 0 || s.pool[i].id != s.pool[unique - 1].id {
            s.pool[unique] = s.pool[i]
            unique += 1
        }
        s.pool.removeSubrange(unique...)
        let n = s.pool.count
        if n <= degree {
            for i in 0..<n { out[i] = s.pool[i].id }
            return n
        }
        s.occluded.removeAll(keepingCapacity: true)
        s.occluded.append(contentsOf: repeatElement(false, count: n))
        var kept = 0
        s.pool.withUnsafeBufferPointer { pool in
            s.occluded.withUnsafeMutableBufferPointer { occ in
                for i in 0..<n where !occ[i] {
                    out[kept] = pool[i].id
                    kept += 1
                    if kept == degree { break }
                    let vi = vector(pool[i].id)
                    for j in (i + 1)..<n where !occ[j] {
                        if alpha * engram_l2sq(vi, vector(pool[j].id), dimension) <= pool[j].distance { occ[j] = true }
                    }
                }
            }
        }
        return kept
    }

    /// Adds the edges `source → target` for a batch: appended while `target` has room, otherwise the
    /// target's list is re-pruned over its neighbours and the new sources.
    private func addBackEdges(_ target: Int32, sources: [Int32], alpha: Float, scratch s: Scratch) {
        let row = neighbours + Int(target) * degree
        var deg = Int(degrees[Int(target)])
        var missing: [Int32] = []
        for src in sources where src != target {
            var present = false
            for e in 0..<deg where row[e] == src { present = true; break }
            if !present { missing.append(src) }
        }
        if missing.isEmpty { return }
        if deg + missing.count <= degree {
            for src in missing { row[deg] = src; deg += 1 }
            degrees[Int(target)] = Int32(deg)
            return
        }
        s.pool.removeAll(keepingCapacity: true)
        appendCurrentNeighbours(of: target, to: s)
        missing.withUnsafeBufferPointer { m in
            engram_l2sq_ids(vector(target), data, dimension, m.baseAddress, m.count, s.distanceBuffer)
        }
        for (e, src) in missing.enumerated() { s.pool.append(Candidate(distance: s.distanceBuffer[e], id: src)) }
        degrees[Int(target)] = Int32(robustPrune(target, scratch: s, alpha: alpha, into: row))
    }

    // MARK: Scratch

    struct Candidate {
        var distance: Float
        var id: Int32
    }

    /// One worker's buffers: the sorted candidate list, the visited stamps (one per point, reset by
    /// bumping the epoch rather than clearing), the expanded list and the prune pool.
    final class Scratch {
        var stamp: UnsafeMutablePointer<UInt32>
        var epoch: UInt32 = 0
        let count: Int
        let listIds: UnsafeMutablePointer<Int32>
        let listDistances: UnsafeMutablePointer<Float>
        let listExpanded: UnsafeMutablePointer<Bool>
        var listCount = 0
        var expandedIds: UnsafeMutablePointer<Int32>
        var expandedDistances: UnsafeMutablePointer<Float>
        var expandedCapacity: Int
        var expandedCount = 0
        let idBuffer: UnsafeMutablePointer<Int32>
        let distanceBuffer: UnsafeMutablePointer<Float>
        var pool: [Candidate] = []
        var occluded: [Bool] = []

        init(count: Int, listSize: Int) {
            self.count = count
            stamp = .allocate(capacity: max(1, count))
            stamp.initialize(repeating: 0, count: max(1, count))
            listIds = .allocate(capacity: listSize + 1)
            listDistances = .allocate(capacity: listSize + 1)
            listExpanded = .allocate(capacity: listSize + 1)
            expandedCapacity = 4 * listSize
            expandedIds = .allocate(capacity: expandedCapacity)
            expandedDistances = .allocate(capacity: expandedCapacity)
            // Room for any node's neighbours or any batch of back-edge sources.
            idBuffer = .allocate(capacity: 1 << 16)
            distanceBuffer = .allocate(capacity: 1 << 16)
            pool.reserveCapacity(4 * listSize)
        }

        deinit {
            stamp.deallocate(); listIds.deallocate(); listDistances.deallocate(); listExpanded.deallocate()
            expandedIds.deallocate(); expandedDistances.deallocate(); idBuffer.deallocate(); distanceBuffer.deallocate()
        }

        func nextEpoch() {
            epoch &+= 1
            if epoch == 0 {
                stamp.update(repeating: 0, count: max(1, count))
                epoch = 1
            }
        }

        func appendExpanded(_ id: Int32, _ distance: Float) {
            if expandedCount == expandedCapacity {
                let newCapacity = expandedCapacity * 2
                let ids = UnsafeMutablePointer<Int32>.allocate(capacity: newCapacity)
                let ds = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity)
                ids.update(from: expandedIds, count: expandedCount)
                ds.update(from: expandedDistances, count: expandedCount)
                expandedIds.deallocate(); expandedDistances.deallocate()
                expandedIds = ids; expandedDistances = ds; expandedCapacity = newCapacity
            }
            expandedIds[expandedCount] = id
            expandedDistances[expandedCount] = distance
            expandedCount += 1
        }

        /// Inserts into the list sorted by (distance, id), keeping at most `limit`; returns the position,
        /// or -1 when the candidate did not make the list.
        @discardableResult
        func insert(distance: Float, id: Int32, limit: Int) -> Int {
            if listCount == limit && !(distance < listDistances[limit - 1]) { return -1 }
            var lo = 0, hi = listCount
            while lo < hi {
                let mid = (lo + hi) >> 1
                if listDistances[mid] < distance || (listDistances[mid] == distance && listIds[mid] < id) { lo = mid + 1 } else { hi = mid }
            }
            let moved = min(listCount, limit - 1) - lo
            if moved > 0 {  // overlapping ranges: memmove
                memmove(listIds + lo + 1, listIds + lo, moved * 4)
                memmove(listDistances + lo + 1, listDistances + lo, moved * 4)
                memmove(listExpanded + lo + 1, listExpanded + lo, moved)
            }
            listIds[lo] = id
            listDistances[lo] = distance
            listExpanded[lo] = false
            if listCount < limit { listCount += 1 }
            return lo
        }
    }
}
