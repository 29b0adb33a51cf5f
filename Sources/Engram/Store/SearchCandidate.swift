import EngramIO

/// One record among a keyword or hybrid search's candidates, with what each side said about it.
struct SearchCandidate {
    var kind: RecordKind
    var id: String
    var bm25: Float?
    var distance: Float?
    var keywordRank: Int?
    var denseRank: Int?
    /// Each side's score min-max normalised over its candidates, in [0, 1] (0 when the side did not find it).
    var keywordRelevance = 0.0
    var denseRelevance = 0.0
    var fused = 0.0

    init(kind: RecordKind, id: String, bm25: Float? = nil) {
        self.kind = kind
        self.id = id
        self.bm25 = bm25
    }

    /// Fills both relevances. Dense: for L2 (smaller is nearer) the nearest candidate gets 1 and the farthest 0.
    static func normalise(_ candidates: inout [SearchCandidate], metric: DistanceMetric) {
        let bm25 = candidates.compactMap(\.bm25)
        let distances = candidates.compactMap(\.distance)
        let (bmLow, bmHigh) = (Double(bm25.min() ?? 0), Double(bm25.max() ?? 0))
        let (dLow, dHigh) = (Double(distances.min() ?? 0), Double(distances.max() ?? 0))
        for i in candidates.indices {
            if let s = candidates[i].bm25 {
                candidates[i].keywordRelevance = bmHigh > bmLow ? (Double(s) - bmLow) / (bmHigh - bmLow) : 1
            }
            if let d = candidates[i].distance {
                let spread = dHigh - dLow
                let nearness = metric.higherIsCloser ? Double(d) - dLow : dHigh - Double(d)
                candidates[i].denseRelevance = spread > 0 ? nearness / spread : 1
            }
        }
    }

    mutating func fuse(_ fusion: SearchFusion) {
        switch fusion {
        case .convex(let alpha):
            fused = alpha * denseRelevance + (1 - alpha) * keywordRelevance
        case .reciprocalRank(let k):
            fused = (keywordRank.map { 1 / (k + Double($0)) } ?? 0) + (denseRank.map { 1 / (k + Double($0)) } ?? 0)
        }
    }
}
