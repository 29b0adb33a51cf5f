import CEngramKernels

#if canImport(Glibc)
import Glibc
#endif

extension DiskGraph {
    /// One search hit: a node and its distance in the graph's metric (squared L2, smaller is closer; or
    /// inner product, larger is closer), computed from the full-precision vector.
    package typealias Hit = (node: Int32, distance: Float)

    /// The default search list size L and beam width W: recall@10 ≥ 0.95 on the dev set (docs/GRAPH.md).
    package static let defaultComplexity = 100
    package static let defaultBeamWidth = 4

    /// Beam search (DiskANN): navigates with PQ distances from the codes in memory, expanding up to
    /// `beamWidth` of the closest unexpanded candidates per round, keeping a list of `complexity`
    /// (L ≥ k); every expanded node's record — read anyway for its neighbour list — gives the exact
    /// distance, and the results are the best expanded nodes by exact distance ("implicit re-ranking").
    ///
    /// `accept` filters results only: a rejected node is still expanded and navigated through. When fewer
    /// than `k` expanded nodes are accepted, the search is repeated with a doubled list until `k` are found
    /// or every node was considered.
    package func search(_ query: [Float], k: Int, complexity: Int = DiskGraph.defaultComplexity, beamWidth: Int = DiskGraph.defaultBeamWidth,
                        accept: ((Int32) -> Bool)? = nil) -> [Hit] {
        guard query.count == dimension, k > 0, count > 0, query.allSatisfy(\.isFinite) else { return [] }
        var list = max(complexity, k)
        while true {
            let expanded = query.withUnsafeBufferPointer { beamSearch($0.baseAddress!, complexity: list, beamWidth: max(1, beamWidth)) }
            var hits: [Hit] = []
            hits.reserveCapacity(k)
            for hit in expanded where accept?(hit.node) ?? true {
                hits.append(metric == .innerProduct ? (hit.node, -hit.distance) : hit)
                if hits.count == k { break }
            }
            if hits.count == k || expanded.count >= count || list >= count { return hits }
            list = min(count, list * 2)
        }
    }

    /// The expanded nodes sorted by exact internal distance (squared L2, or minus the inner product).
    func beamSearch(_ query: UnsafePointer<Float>, complexity L: Int, beamWidth W: Int) -> [Hit] {
        let m = pqSubQuantizers, d = dimension
        let table = UnsafeMutablePointer<Float>.allocate(capacity: m * 256)
        defer { table.deallocate() }
        distanceTable(query, into: table)
        let codes = (pq.base + codesOffset).assumingMemoryBound(to: UInt8.self)

        // Candidate list sorted by PQ distance, at most L.
        let ids = UnsafeMutablePointer<Int32>.allocate(capacity: L + 1)
        let dists = UnsafeMutablePointer<Float>.allocate(capacity: L + 1)
        let done = UnsafeMutablePointer<Bool>.allocate(capacity: L + 1)
        // Visited: one bit per node (12.5 KB per 100k nodes, cleared per query).
        let words = (count + 63) / 64
        let visited = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
        visited.initialize(repeating: 0, count: words)
        let fresh = UnsafeMutablePointer<Int32>.allocate(capacity: W * degree)
        let freshDist = UnsafeMutablePointer<Float>.allocate(capacity: W * degree)
        defer {
            ids.deallocate(); dists.deallocate(); done.deallocate(); visited.deallocate()
            fresh.deallocate(); freshDist.deallocate()
        }
        var size = 0
        func insert(_ id: Int32, _ dist: Float) -> Int {
            if size == L && !(dist < dists[L - 1]) { return Int.max }
            var lo = 0, hi = size
            while lo < hi {
                let mid = (lo + hi) >> 1
                if dists[mid] < dist || (dists[mid] == dist && ids[mid] < id) { lo = mid + 1 } else { hi = mid }
            }
            let moved = min(size, L - 1) - lo
            if moved > 0 {
                memmoveFloats(ids, dists, done, lo, moved)
            }
            ids[lo] = id
            dists[lo] = dist
            done[lo] = false
            if size < L { size += 1 }
            return lo
        }
        let start = medoid
        visited[Int(start) >> 6] |= 1 << UInt64(Int(start) & 63)
        _ = insert(start, engram_pq_distance(table, codes + Int(start) * m, m))

        var results: [Hit] = []
        results.reserveCapacity(2 * L)
        let nodesBase = nodes.base
        let beam = UnsafeMutablePointer<Int32>.allocate(capacity: W)
        defer { beam.deallocate() }
        var first = 0  // every entry before `first` is expanded
        while true {
            while first < size && done[first] { first += 1 }
            if first >= size { break }
            // Up to W closest unexpanded candidates.
            var b = 0
            var i = first
            while i < size && b < W {
                if !done[i] {
                    done[i] = true
                    beam[b] = ids[i]
                    b += 1
                }
                i += 1
            }
            var freshCount = 0
            for j in 0..<b {
                let node = Int(beam[j])
                let record = nodesBase + layout.offset(of: node)
                let vector = record.assumingMemoryBound(to: Float.self)
                let exact = metric == .innerProduct ? -engram_ip(query, vector, d) : engram_l2sq(query, vector, d)
                results.append((Int32(node), exact))
                let listed = min(Int(record.u32(4 * d)), degree)  // clamp: a damaged count never reads past the record
                let neighbours = record + 4 * d + 4
                for e in 0..<listed {
                    let nb = neighbours.i32(4 * e)
                    guard nb >= 0, Int(nb) < count else { continue }
                    let w = Int(nb) >> 6, bit = UInt64(1) << UInt64(Int(nb) & 63)
                    if visited[w] & bit != 0 { continue }
                    visited[w] |= bit
                    fresh[freshCount] = nb
                    freshCount += 1
                }
            }
            engram_pq_distance_ids(table, codes, m, fresh, freshCount, freshDist)
            for e in 0..<freshCount {
                let pos = insert(fresh[e], freshDist[e])
                if pos < first { first = pos }
            }
        }
        results.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.node < $1.node) }
        return results
    }

    /// The PQ lookup table of a query: entry `[m][c]` is the distance between the query's m-th
    /// sub-vector and centroid c of sub-quantizer m (squared L2, or minus the inner product).
    func distanceTable(_ query: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>) {
        let m = pqSubQuantizers, sub = dimension / m
        let centroids = (pq.base + GraphFormat.pqHeaderBytes).assumingMemoryBound(to: Float.self)
        for s in 0..<m {
            let q = query + s * sub, c = centroids + s * 256 * sub, out = table + s * 256
            if metric == .innerProduct {
                engram_ip_many(q, c, 256, sub, sub, out)
                for i in 0..<256 { out[i] = -out[i] }
            } else {
                engram_l2sq_many(q, c, 256, sub, sub, out)
            }
        }
    }
}

/// Shifts `count` entries of the three parallel arrays one place right from `at` (overlapping: memmove).
@inline(__always)
private func memmoveFloats(_ ids: UnsafeMutablePointer<Int32>, _ dists: UnsafeMutablePointer<Float>, _ done: UnsafeMutablePointer<Bool>, _ at: Int, _ count: Int) {
    memmove(ids + at + 1, ids + at, count * 4)
    memmove(dists + at + 1, dists + at, count * 4)
    memmove(done + at + 1, done + at, count)
}
