/// Disjoint sets with path halving, remembering per set the lowest similarity that joined it.
struct UnionFind {
    var parent: [Int]
    var lowest: [Double]

    init(count: Int) {
        parent = Array(0..<count)
        lowest = [Double](repeating: 1, count: count)
    }

    mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    mutating func union(_ a: Int, _ b: Int, similarity: Double) {
        let (ra, rb) = (find(a), find(b))
        if ra == rb { return }
        parent[rb] = ra
        lowest[ra] = min(lowest[ra], lowest[rb], similarity)
    }
}
