import Foundation
import EngramTestSupport
import Testing
import EngramVector

extension FaissTests {
    @Suite struct Search {
        @Test(arguments: [VectorMetric.l2, .innerProduct])
        func exactResultsMatchBruteForce(metric: VectorMetric) throws {
            let d = 16, n = 300, k = 10
            let data = randomVectors(n, d, seed: 1)
            let ids = (0..<n).map { Int64($0) * 1_000_003 + 17 }
            let index = try FaissIndex(dimension: d, metric: metric)
            try index.add(vectors: data, ids: ids)
            #expect(index.count == n)
            #expect(index.dimension == d)
            #expect(index.metric == metric)

            let queries = rows(randomVectors(25, d, seed: 2), d)
            for q in queries {
                let got = try index.search(query: q, k: k)
                expectMatches(got, bruteForce(data: data, ids: ids, d: d, query: q, metric: metric), k: k)
            }
            // Batch of 25 (>= 20: FAISS switches to its BLAS path) agrees with brute force too.
            let batch = try index.search(queries: queries, k: k)
            #expect(batch.count == queries.count)
            for (q, got) in zip(queries, batch) {
                expectMatches(got, bruteForce(data: data, ids: ids, d: d, query: q, metric: metric), k: k, tolerance: 1e-3)
            }
        }

        @Test func addAsRowsEqualsAddFlat() throws {
            let d = 8
            let data = randomVectors(40, d, seed: 3)
            let ids = (0..<40).map { Int64($0) }
            let a = try FaissIndex(dimension: d)
            let b = try FaissIndex(dimension: d)
            try a.add(vectors: data, ids: ids)
            try b.add(vectors: rows(data, d), ids: ids)
            let q = Array(data[0..<d])
            let ra = try a.search(query: q, k: 5), rb = try b.search(query: q, k: 5)
            #expect(ra.map(\.id) == rb.map(\.id))
            #expect(ra.map(\.distance) == rb.map(\.distance))
            #expect(ra.first?.id == 0 && ra.first?.distance == 0)
        }

        @Test func emptyIndexAndKLargerThanCount() throws {
            let index = try FaissIndex(dimension: 4)
            #expect(try index.search(query: [0, 0, 0, 0], k: 5).isEmpty)
            #expect(try index.search(queries: [[0, 0, 0, 0], [1, 1, 1, 1]], k: 3).map(\.count) == [0, 0])
            #expect(try index.search(queries: [], k: 3).isEmpty)
            try index.add(vectors: [[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 3, 0]], ids: [10, 20, 30])
            let r = try index.search(query: [0, 0, 0, 0], k: 1000)
            #expect(r.map(\.id) == [10, 20, 30])
            #expect(r.map(\.distance) == [1, 4, 9])
            // A huge k is fine: it is capped at count before FAISS allocates anything.
            #expect(try index.search(query: [0, 0, 0, 0], k: .max).count == 3)
        }

        @Test func cosineViaNormalizedInnerProduct() throws {
            let d = 12, n = 100
            let raw = rows(randomVectors(n, d, seed: 4), d)
            let normed = raw.map(FaissIndex.normalized)
            for v in normed {
                let norm = v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
                #expect(abs(norm - 1) < 1e-6)
            }
            #expect(FaissIndex.normalized([0, 0, 0]) == [0, 0, 0])
            #expect(FaissIndex.normalized([3, 4]) == [0.6, 0.8])

            let ids = (0..<n).map { Int64($0) }
            let index = try FaissIndex(dimension: d, metric: .innerProduct)
            try index.add(vectors: normed, ids: ids)
            let q = FaissIndex.normalized(rows(randomVectors(1, d, seed: 5), d)[0])
            let got = try index.search(query: q, k: 7)
            expectMatches(got, bruteForce(data: normed.flatMap { $0 }, ids: ids, d: d, query: q, metric: .innerProduct), k: 7)
            #expect(got.allSatisfy { $0.distance <= 1.0001 && $0.distance >= -1.0001 })
        }

        @Test func batchEqualsSingleWithMoreThreads() throws {
            let d = 32, n = 2000
            let data = randomVectors(n, d, seed: 6)
            let index = try FaissIndex(dimension: d)
            try index.add(vectors: data, ids: (0..<n).map { Int64($0) })
            let queries = rows(randomVectors(8, d, seed: 7), d)
            let single = try queries.map { try index.search(query: $0, k: 5) }
            try FaissIndex.setThreadCount(2)
            defer { try? FaissIndex.setThreadCount(1) }
            #expect(FaissIndex.threadCount == 2)
            let batch = try index.search(queries: queries, k: 5)
            #expect(batch.map { $0.map(\.id) } == single.map { $0.map(\.id) })
            for (b, s) in zip(batch, single) {
                for (x, y) in zip(b, s) { #expect(abs(x.distance - y.distance) < 1e-4) }
            }
            expectFaissError(FaissError.badArgument, "setThreadCount(0)") { try FaissIndex.setThreadCount(0) }
        }

        @Test func concurrentUseIsSerialisedByTheLock() async throws {
            let d = 8
            let index = try FaissIndex(dimension: d)
            try index.add(vectors: randomVectors(100, d, seed: 8), ids: (0..<100).map { Int64($0) })
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<8 {
                    group.addTask {
                        let mine = (0..<25).map { Int64(1000 + t * 100 + $0) }
                        try index.add(vectors: randomVectors(25, d, seed: UInt64(100 + t)), ids: mine)
                        for q in rows(randomVectors(10, d, seed: UInt64(200 + t)), d) {
                            #expect(try index.search(query: q, k: 3).count == 3)
                        }
                        #expect(try index.remove(ids: Array(mine.prefix(5))) == 5)
                    }
                }
                try await group.waitForAll()
            }
            #expect(index.count == 100 + 8 * 20)
        }
    }

    @Suite struct IdsAndRemoval {
        @Test func largeArbitraryIdsArePreserved() throws {
            let d = 6
            let ids: [Int64] = [.max, .min, .min + 1, 0, -2, 9_007_199_254_740_993, -4_611_686_018_427_387_904, 42]
            let data = randomVectors(ids.count, d, seed: 9)
            let index = try FaissIndex(dimension: d)
            try index.add(vectors: data, ids: ids)
            for (i, id) in ids.enumerated() {
                let v = Array(data[i * d..<(i + 1) * d])
                let hit = try index.search(query: v, k: 1)
                #expect(hit.first?.id == id)
                #expect(hit.first?.distance == 0)
                #expect(try index.reconstruct(id: id) == v)
                #expect(index.contains(id: id))
            }
            #expect(try index.reconstruct(id: 7) == nil)
            #expect(!index.contains(id: 7))
        }

        @Test func removedIdsAreNotReturned() throws {
            let d = 10, n = 200
            let data = randomVectors(n, d, seed: 10)
            let ids = (0..<n).map { Int64($0) * 7 - 500 }
            let index = try FaissIndex(dimension: d)
            try index.add(vectors: data, ids: ids)
            let gone = Set(ids.enumerated().filter { $0.offset % 3 == 0 }.map(\.element))
            // Unknown ids are ignored; the return value counts what was really removed.
            let removed = try index.remove(ids: Array(gone) + [123_456_789, -1])
            #expect(removed == gone.count)
            #expect(index.count == n - gone.count)
            #expect(try index.remove(ids: Array(gone)) == 0)
            #expect(try index.remove(ids: []) == 0)

            let everything = try index.search(query: Array(data[0..<d]), k: n)
            #expect(everything.count == n - gone.count)
            #expect(Set(everything.map(\.id)).isDisjoint(with: gone))
            for (i, id) in ids.enumerated() {
                let v = Array(data[i * d..<(i + 1) * d])
                if gone.contains(id) {
                    #expect(try index.reconstruct(id: id) == nil)
                    #expect(try index.search(query: v, k: 1).first?.id != id)
                } else {
                    #expect(try index.reconstruct(id: id) == v) // storage compaction kept ids in sync
                }
            }
            // Brute force over the survivors still matches.
            let kept = ids.enumerated().filter { !gone.contains($0.element) }
            let keptData = kept.flatMap { data[$0.offset * d..<($0.offset + 1) * d] }
            let q = rows(randomVectors(1, d, seed: 11), d)[0]
            expectMatches(try index.search(query: q, k: 10),
                          bruteForce(data: keptData, ids: kept.map(\.element), d: d, query: q, metric: .l2), k: 10)
            // A removed id can be added again.
            let back = ids[0]
            try index.add(vectors: [Array(data[0..<d])], ids: [back])
            #expect(try index.search(query: Array(data[0..<d]), k: 1).first?.id == back)
        }
    }

    @Suite struct Validation {
        @Test func badArgumentsAreRejectedBeforeFaiss() throws {
            expectFaissError(FaissError.badArgument, "dimension") { _ = try FaissIndex(dimension: 0) }
            expectFaissError(FaissError.badArgument, "dimension") { _ = try FaissIndex(dimension: -3) }

            let index = try FaissIndex(dimension: 3)
            try index.add(vectors: [1, 2, 3], ids: [1])
            expectFaissError(FaissError.badArgument, "add failed", "not a multiple of the dimension 3") {
                try index.add(vectors: [1, 2, 3, 4], ids: [2])
            }
            expectFaissError(FaissError.badArgument, "2 vectors", "1 ids") {
                try index.add(vectors: [1, 2, 3, 4, 5, 6], ids: [2])
            }
            expectFaissError(FaissError.badArgument, "vectors[1] has 2 components") {
                try index.add(vectors: [[1, 2, 3], [1, 2]], ids: [2, 3])
            }
            expectFaissError(FaissError.badArgument, "vectors[1][2]", "NaN") {
                try index.add(vectors: [0, 0, 0, 1, 1, .nan], ids: [2, 3])
            }
            expectFaissError(FaissError.badArgument, "vectors[0][1]", "infinite") {
                try index.add(vectors: [[0, -.infinity, 0]], ids: [2])
            }
            expectFaissError(FaissError.badArgument, "-1") { try index.add(vectors: [0, 0, 0], ids: [-1]) }
            expectFaissError(FaissError.badArgument, "id 5 appears more than once") {
                try index.add(vectors: [0, 0, 0, 1, 1, 1], ids: [5, 5])
            }
            expectFaissError(FaissError.badArgument, "id 1", "already in the index") {
                try index.add(vectors: [[9, 9, 9], [0, 0, 0]], ids: [8, 1])
            }
            #expect(index.count == 1) // nothing from the failed calls went in
            #expect(!index.contains(id: 8))

            expectFaissError(FaissError.badArgument, "search failed", "query has 2 components") {
                _ = try index.search(query: [1, 2], k: 1)
            }
            expectFaissError(FaissError.badArgument, "k must be > 0") { _ = try index.search(query: [1, 2, 3], k: 0) }
            expectFaissError(FaissError.badArgument, "k must be > 0") { _ = try index.search(queries: [[1, 2, 3]], k: -1) }
            expectFaissError(FaissError.badArgument, "query[1]", "NaN") { _ = try index.search(query: [1, .nan, 3], k: 1) }
            expectFaissError(FaissError.badArgument, "queries[1][0]", "infinite") {
                _ = try index.search(queries: [[1, 2, 3], [.infinity, 0, 0]], k: 1)
            }
            expectFaissError(FaissError.badArgument, "queries[0] has 4 components") {
                _ = try index.search(queries: [[1, 2, 3, 4]], k: 1)
            }
            let e = expectFaissError(FaissError.badArgument) { _ = try index.search(query: [], k: 1) }
            #expect(e?.description.contains("bad argument") == true)
        }
    }

    @Suite struct Persistence {
        func sample(metric: VectorMetric, n: Int = 50, d: Int = 8) throws -> (FaissIndex, [[Float]]) {
            let index = try FaissIndex(dimension: d, metric: metric)
            try index.add(vectors: randomVectors(n, d, seed: 12), ids: (0..<n).map { Int64($0) * 104_729 - 3 })
            return (index, rows(randomVectors(6, d, seed: 13), d))
        }

        func expectSameResults(_ a: FaissIndex, _ b: FaissIndex, _ queries: [[Float]]) throws {
            #expect(a.count == b.count && a.dimension == b.dimension && a.metric == b.metric)
            let ra = try a.search(queries: queries, k: 10), rb = try b.search(queries: queries, k: 10)
            #expect(ra.map { $0.map(\.id) } == rb.map { $0.map(\.id) })
            #expect(ra.map { $0.map(\.distance) } == rb.map { $0.map(\.distance) })
        }

        @Test(arguments: [VectorMetric.l2, .innerProduct])
        func serializeRoundTrip(metric: VectorMetric) throws {
            let (index, queries) = try sample(metric: metric)
            let bytes = try index.serialized()
            #expect(bytes.count == 37 + 37 + 8 + 50 * 8 * 4 + 8 + 50 * 8)
            #expect(Array(bytes.prefix(4)) == Array("IxM2".utf8))
            let copy = try FaissIndex(serialized: bytes)
            try expectSameResults(index, copy, queries)
            #expect(try copy.serialized() == bytes)
            #expect(try copy.reconstruct(id: -3) == index.reconstruct(id: -3))
            // The copy is independent and fully usable.
            try copy.remove(ids: [-3])
            try copy.add(vectors: [Float](repeating: 0.5, count: 8), ids: [-3])
            #expect(index.count == 50 && copy.count == 50)
            // Empty index too.
            let empty = try FaissIndex(dimension: 5, metric: metric)
            let e2 = try FaissIndex(serialized: try empty.serialized())
            #expect(e2.count == 0 && e2.dimension == 5 && e2.metric == metric)
        }

        @Test(arguments: [VectorMetric.l2, .innerProduct])
        func writeReadRoundTrip(metric: VectorMetric) throws {
            let dir = makeTempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let (index, queries) = try sample(metric: metric)
            let path = dir.appendingPathComponent("v.faiss").path
            try index.write(toPath: path)
            let back = try FaissIndex(readingPath: path)
            try expectSameResults(index, back, queries)
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == index.serialized())
            // Overwriting an existing (longer) file truncates it.
            let small = try FaissIndex(dimension: 8, metric: metric)
            try small.write(toPath: path)
            #expect(try FaissIndex(readingPath: path).count == 0)
        }

        @Test func idMapWithoutReverseMapIsConvertedToIDMap2() throws {
            // "IxMp" (IndexIDMap) has the same layout as "IxM2"; such files (e.g. from
            // Python's faiss.IndexIDMap) are accepted and get reconstruct-by-id support.
            let (index, queries) = try sample(metric: .l2)
            var bytes = try index.serialized()
            bytes.replaceSubrange(0..<4, with: Array("IxMp".utf8))
            let converted = try FaissIndex(serialized: bytes)
            try expectSameResults(index, converted, queries)
            #expect(try converted.reconstruct(id: 104_729 - 3) == index.reconstruct(id: 104_729 - 3))
            #expect(Array(try converted.serialized().prefix(4)) == Array("IxM2".utf8))
        }
    }

    @Suite struct CorruptInput {
        func validBytes() throws -> [UInt8] {
            let index = try FaissIndex(dimension: 4)
            try index.add(vectors: randomVectors(10, 4, seed: 14), ids: (0..<10).map { Int64($0) + 100 })
            return try index.serialized()
        }

        @Test func everyTruncationIsAFormatError() throws {
            let bytes = try validBytes()
            #expect(bytes.count == 330)
            for len in 0..<bytes.count {
                expectFaissError(FaissError.formatError) { _ = try FaissIndex(serialized: Array(bytes.prefix(len))) }
            }
            expectFaissError(FaissError.formatError, "init(serialized: 0 bytes)", "empty") { _ = try FaissIndex(serialized: []) }
            expectFaissError(FaissError.formatError, "trailing") { _ = try FaissIndex(serialized: bytes + [0]) }
        }

        @Test func garbageAndOtherIndexTypesAreFormatErrors() throws {
            var rng = SeededGenerator(seed: 15)
            for size in [1, 3, 4, 37, 100, 4096] {
                let garbage = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
                expectFaissError(FaissError.formatError) { _ = try FaissIndex(serialized: garbage) }
                // Garbage behind a valid tag must not crash or allocate wildly either.
                expectFaissError(FaissError.formatError) { _ = try FaissIndex(serialized: Array("IxM2".utf8) + garbage) }
            }
            expectFaissError(FaissError.formatError, "'IxF2'", "not an IndexIDMap2") {
                _ = try FaissIndex(serialized: Array("IxF2".utf8) + [UInt8](repeating: 0, count: 60))
            }
            var bytes = try validBytes()
            bytes.replaceSubrange(37..<41, with: Array("IwFl".utf8)) // an IVF tag
            expectFaissError(FaissError.formatError, "sub-index", "'IwFl'") { _ = try FaissIndex(serialized: bytes) }
        }

        @Test func hugeLengthFieldsAreRejectedWithoutAllocating() throws {
            let good = try validBytes()
            // Outer ntotal, inner ntotal, float count, id count: set each to 2^39.
            for offset in [8, 41 + 4, 74, 74 + 8 + 160] {
                var bytes = good
                withUnsafeBytes(of: UInt64(1 << 39).littleEndian) { bytes.replaceSubrange(offset..<offset + 8, with: $0) }
                expectFaissError(FaissError.formatError) { _ = try FaissIndex(serialized: bytes) }
            }
        }

        @Test func duplicateIdsInDataAreRejected() throws {
            var bytes = try validBytes()
            let idsStart = 330 - 80
            bytes.replaceSubrange(idsStart + 8..<idsStart + 16, with: bytes[idsStart..<idsStart + 8])
            expectFaissError(FaissError.formatError, "id 100 is stored more than once") { _ = try FaissIndex(serialized: bytes) }
        }

        @Test func everySingleByteCorruptionLoadsOrThrowsButNeverCrashes() throws {
            let good = try validBytes()
            var loaded = 0, rejected = 0
            for i in 0..<good.count {
                for value: UInt8 in [0x00, 0xFF, 0x7F] where good[i] != value {
                    var bytes = good
                    bytes[i] = value
                    do {
                        let index = try FaissIndex(serialized: bytes)
                        // If it loaded, it must be usable.
                        _ = try index.search(query: [0, 0, 0, 0], k: 3)
                        _ = try index.serialized()
                        loaded += 1
                    } catch {
                        rejected += 1
                    }
                }
            }
            #expect(loaded > 0 && rejected > 0)
        }

        @Test func badFilesGiveFaissErrors() throws {
            let dir = makeTempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let good = try validBytes()
            func file(_ name: String, _ bytes: [UInt8]) -> String {
                let url = dir.appendingPathComponent(name)
                try! Data(bytes).write(to: url)
                return url.path
            }
            let truncated = file("truncated.faiss", Array(good.prefix(200)))
            expectFaissError(FaissError.formatError, truncated, "truncated") { _ = try FaissIndex(readingPath: truncated) }
            let empty = file("empty.faiss", [])
            expectFaissError(FaissError.formatError, empty, "empty") { _ = try FaissIndex(readingPath: empty) }
            var rng = SeededGenerator(seed: 16)
            let garbage = file("garbage.faiss", (0..<1000).map { _ in UInt8.random(in: 0...255, using: &rng) })
            expectFaissError(FaissError.formatError, garbage) { _ = try FaissIndex(readingPath: garbage) }
            let text = file("text.faiss", Array("hello, this is not an index\n".utf8))
            expectFaissError(FaissError.formatError, text) { _ = try FaissIndex(readingPath: text) }

            let missing = dir.appendingPathComponent("missing.faiss").path
            let e = expectFaissError(FaissError.ioError, missing, "No such file") { _ = try FaissIndex(readingPath: missing) }
            #expect(e?.operation == "init(readingPath: \"\(missing)\")")
            expectFaissError(FaissError.ioError, "not a regular file") { _ = try FaissIndex(readingPath: dir.path) }

            let index = try FaissIndex(dimension: 4)
            let unwritable = dir.appendingPathComponent("no/such/dir/x.faiss").path
            expectFaissError(FaissError.ioError, "write(toPath:", unwritable) { try index.write(toPath: unwritable) }
        }
    }

    @Suite struct Leaks {
        @Test func liveHandleCountReturnsToItsPreviousValue() throws {
            let before = FaissIndex.liveHandleCountOnThisThread
            func scope() throws {
                let a = try FaissIndex(dimension: 4)
                let b = try FaissIndex(dimension: 4, metric: .innerProduct)
                try a.add(vectors: randomVectors(20, 4, seed: 17), ids: (0..<20).map { Int64($0) })
                let c = try FaissIndex(serialized: try a.serialized())
                let dir = makeTempDir()
                defer { try? FileManager.default.removeItem(at: dir) }
                let path = dir.appendingPathComponent("x.faiss").path
                try c.write(toPath: path)
                let d = try FaissIndex(readingPath: path)
                #expect(FaissIndex.liveHandleCountOnThisThread == before + 4)
                // Failed creations and loads leave nothing behind.
                _ = try? FaissIndex(dimension: 0)
                _ = try? FaissIndex(serialized: Array(try a.serialized().dropLast()))
                _ = try? FaissIndex(readingPath: path + ".missing")
                #expect(FaissIndex.liveHandleCountOnThisThread == before + 4)
                withExtendedLifetime((a, b, c, d)) {}
            }
            try scope()
            #expect(FaissIndex.liveHandleCountOnThisThread == before)
        }
    }
}
