import EngramIO
import EngramTestSupport
import Foundation
import Testing
@testable import EngramText

@Suite struct KeywordCorruptionTests {
    func sampleFile(_ dir: TemporaryDirectory) throws -> [UInt8] {
        let index = KeywordIndex()
        var rng = SeededGenerator(seed: 3)
        for i in 0..<400 {
            let words = (0..<12).map { _ in ["the", "and", "getValue", "os.path", "x\(Int.random(in: 0..<100, using: &rng))"].randomElement(using: &rng)! }
            index.upsert(key: "k\(i)", version: Int64(i), text: words.joined(separator: " "))
        }
        let path = dir.path + "/good.bin"
        _ = try index.write(to: path)
        return Array(FileManager.default.contents(atPath: path)!)
    }

    @Test func truncatedAndForeignFilesAreCorrupt() throws {
        let dir = TemporaryDirectory()
        let good = try sampleFile(dir)
        for length in [0, 10, 71, 103, good.count / 2, good.count - 1] {
            let path = dir.path + "/t\(length).bin"
            _ = FileManager.default.createFile(atPath: path, contents: Data(good[0..<length]))
            #expect(throws: EngramError.self) { _ = try KeywordIndex.open(path: path) }
            do { _ = try KeywordIndex.open(path: path) } catch {
                #expect(error.code == .corrupt)
                #expect(error.path == path)
                #expect(error.remedy?.contains("rebuild") == true)
            }
        }
        let foreign = dir.write("foreign.bin", String(repeating: "not a keyword index ", count: 20))
        do { _ = try KeywordIndex.open(path: foreign); Issue.record("opened a foreign file") } catch { #expect(error.code == .corrupt) }
    }

    @Test func flippedBytesNeverCrash() throws {
        let dir = TemporaryDirectory()
        let good = try sampleFile(dir)
        var rng = SeededGenerator(seed: 99)
        var caught = 0
        for round in 0..<300 {
            var bytes = good
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[at] ^= UInt8.random(in: 1...255, using: &rng)
            }
            let path = dir.path + "/f\(round).bin"
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            guard let index = try? KeywordIndex.open(path: path) else { caught += 1; continue }
            // Damage past the header: open cannot see it, check() must, and nothing may crash.
            if index.check().isEmpty { continue }
            caught += 1
            for q in ["the", "getvalue os.path", "x5 x7 and", "k1"] { _ = index.search(q, k: 10); _ = index.score(q, key: "k7") }
            _ = index.version(of: "k10")
            index.forEachDocument { _, _ in }
            index.upsert(key: "k3", version: 1, text: "the new text")
            index.remove(key: "k4")
            _ = try? index.write(to: path + ".rewritten")
            #expect(throws: EngramError.self) { _ = try KeywordIndex.open(path: path, verifyChecksum: true) }
        }
        #expect(caught == 300)  // every flip is caught by open, the checksum or check()
    }
}
