import CEngramKernels
import EngramTestSupport
import EngramGraph
import Testing

/// The dispatched kernels (AVX2/FMA here) against the scalar reference, on awkward lengths.
@Suite(.serialized) struct KernelTests {
    static let lengths = [1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 383, 384, 385, 1000]

    func close(_ a: Float, _ b: Float) -> Bool {
        abs(a - b) <= 1e-5 * max(1, abs(a), abs(b))
    }

    @Test func pairKernelsMatchScalarReference() {
        var rng = SeededGenerator(seed: 1)
        for d in Self.lengths {
            let a = (0..<d).map { _ in Float.random(in: -1...1, using: &rng) }
            let b = (0..<d).map { _ in Float.random(in: -1...1, using: &rng) }
            let l2 = engram_l2sq(a, b, d), l2ref = engram_l2sq_scalar(a, b, d)
            let ip = engram_ip(a, b, d), ipref = engram_ip_scalar(a, b, d)
            #expect(close(l2, l2ref), "l2sq d=\(d): \(l2) vs \(l2ref)")
            #expect(close(ip, ipref), "ip d=\(d): \(ip) vs \(ipref)")
            // Against a Double-precision sum too: the scalar reference itself is right.
            var exact = 0.0
            for i in 0..<d { exact += Double(a[i] - b[i]) * Double(a[i] - b[i]) }
            #expect(abs(Double(l2ref) - exact) <= 1e-5 * max(1, exact))
        }
    }

    @Test func manyAndIdsKernelsMatchScalarReference() {
        var rng = SeededGenerator(seed: 2)
        for d in [1, 7, 8, 15, 384, 385] {
            let n = 13, stride = d + 3
            let rows = (0..<(n * stride)).map { _ in Float.random(in: -2...2, using: &rng) }
            let q = (0..<d).map { _ in Float.random(in: -2...2, using: &rng) }
            var l2 = [Float](repeating: 0, count: n), ip = [Float](repeating: 0, count: n)
            engram_l2sq_many(q, rows, n, d, stride, &l2)
            engram_ip_many(q, rows, n, d, stride, &ip)
            rows.withUnsafeBufferPointer { r in
                for i in 0..<n {
                    #expect(close(l2[i], engram_l2sq_scalar(q, r.baseAddress! + i * stride, d)))
                    #expect(close(ip[i], engram_ip_scalar(q, r.baseAddress! + i * stride, d)))
                }
            }
            let packed = (0..<(n * d)).map { _ in Float.random(in: -2...2, using: &rng) }
            let ids: [Int32] = [12, 0, 5, 5, 3]
            var out = [Float](repeating: 0, count: ids.count), outIP = out
            engram_l2sq_ids(q, packed, d, ids, ids.count, &out)
            engram_ip_ids(q, packed, d, ids, ids.count, &outIP)
            packed.withUnsafeBufferPointer { p in
                for (i, id) in ids.enumerated() {
                    #expect(close(out[i], engram_l2sq_scalar(q, p.baseAddress! + Int(id) * d, d)))
                    #expect(close(outIP[i], engram_ip_scalar(q, p.baseAddress! + Int(id) * d, d)))
                }
            }
        }
    }

    @Test func pqLookupMatchesScalarReference() {
        var rng = SeededGenerator(seed: 3)
        for m in [1, 7, 8, 9, 15, 16, 48, 49, 96] {
            let table = (0..<(m * 256)).map { _ in Float.random(in: 0...4, using: &rng) }
            let n = 11
            let codes = (0..<(n * m)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var batch = [Float](repeating: 0, count: n), byId = batch
            engram_pq_distance_batch(table, codes, n, m, &batch)
            let ids: [Int32] = (0..<Int32(n)).reversed()
            engram_pq_distance_ids(table, codes, m, ids, n, &byId)
            codes.withUnsafeBufferPointer { c in
                for i in 0..<n {
                    let ref = engram_pq_distance_scalar(table, c.baseAddress! + i * m, m)
                    #expect(close(engram_pq_distance(table, c.baseAddress! + i * m, m), ref))
                    #expect(close(batch[i], ref), "M=\(m) code \(i)")
                    #expect(close(byId[n - 1 - i], ref))
                }
            }
        }
    }

    @Test func dispatchCanBeForcedToScalar() {
        let best = Kernels.isa
        Kernels.forceScalar(true)
        #expect(Kernels.isa == "scalar")
        let a: [Float] = [1, 2, 3], b: [Float] = [1, 0, 3]
        #expect(engram_l2sq(a, b, 3) == 4)
        Kernels.forceScalar(false)
        #expect(Kernels.isa == best)
    }
}
