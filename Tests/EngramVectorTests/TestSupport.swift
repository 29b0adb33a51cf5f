import Foundation
import EngramTestSupport
import Testing
import EngramVector

/// All FAISS tests live under this one serialized suite: `FaissIndex.liveHandleCount` and
/// `FaissIndex.threadCount` are process-wide, so tests that create indexes must not run
/// concurrently with the leak test. (Nested suites inherit `.serialized`.)
@Suite(.serialized) enum FaissTests {}

func randomVectors(_ n: Int, _ d: Int, seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<(n * d)).map { _ in Float.random(in: -1...1, using: &rng) }
}

func rows(_ flat: [Float], _ d: Int) -> [[Float]] {
    stride(from: 0, to: flat.count, by: d).map { Array(flat[$0..<($0 + d)]) }
}

/// Exact neighbours computed in Double, best first.
func bruteForce(data: [Float], ids: [Int64], d: Int, query: [Float], metric: VectorMetric) -> [(id: Int64, distance: Float)] {
    var all: [(id: Int64, distance: Double)] = []
    for (i, id) in ids.enumerated() {
        var acc = 0.0
        for c in 0..<d {
            let x = Double(data[i * d + c]), q = Double(query[c])
            switch metric {
            case .l2: acc += (x - q) * (x - q)
            case .innerProduct: acc += x * q
            }
        }
        all.append((id, acc))
    }
    all.sort { metric == .l2 ? $0.distance < $1.distance : $0.distance > $1.distance }
    return all.map { ($0.id, Float($0.distance)) }
}

/// FAISS results agree with brute force: same distances position by position, each
/// reported distance is the true distance of the reported id, and ids are identical
/// wherever the brute-force ranking is not a near-tie.
func expectMatches(_ got: [(id: Int64, distance: Float)], _ want: [(id: Int64, distance: Float)], k: Int,
                   tolerance: Float = 1e-4, sourceLocation: SourceLocation = #_sourceLocation) {
    let want = Array(want.prefix(k))
    #expect(got.count == want.count, "result count", sourceLocation: sourceLocation)
    guard got.count == want.count else { return }
    let truth = Dictionary(uniqueKeysWithValues: want.map { ($0.id, $0.distance) })
    for j in 0..<got.count {
        #expect(abs(got[j].distance - want[j].distance) <= tolerance,
                "distance at rank \(j): \(got[j].distance) vs \(want[j].distance)", sourceLocation: sourceLocation)
        let gapBefore = j > 0 ? abs(want[j].distance - want[j - 1].distance) : .infinity
        let gapAfter = j + 1 < want.count ? abs(want[j + 1].distance - want[j].distance) : .infinity
        if min(gapBefore, gapAfter) > 2 * tolerance {
            #expect(got[j].id == want[j].id, "id at rank \(j)", sourceLocation: sourceLocation)
        } else if let t = truth[got[j].id] {
            #expect(abs(t - got[j].distance) <= tolerance, sourceLocation: sourceLocation)
        }
    }
}

/// Runs `body`, which must throw a FaissError with `code` (and a message containing
/// every fragment). Returns the error.
@discardableResult
func expectFaissError(_ code: Int32, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation,
                      _ body: () throws -> Void) -> FaissError? {
    do {
        try body()
        Issue.record("expected FaissError code \(code), but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as FaissError {
        #expect(error.code == code, "wrong code: \(error)", sourceLocation: sourceLocation)
        for f in fragments {
            #expect(error.message.contains(f), "message lacks \"\(f)\": \(error.message)", sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("expected FaissError code \(code), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A fresh temporary directory, removed by the caller with `cleanup`.
func makeTempDir() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("engram-faiss-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
