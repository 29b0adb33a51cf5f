/// One search result: a document's key and its BM25 score for the query.
public struct KeywordHit: Sendable, Equatable {
    public var key: String
    public var score: Float

    public init(key: String, score: Float) {
        self.key = key
        self.score = score
    }
}
