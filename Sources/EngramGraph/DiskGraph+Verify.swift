extension DiskGraph {
    /// The full check: every file's XXH3-64 against the manifest, every header, every node's neighbour
    /// count (≤ R) and ids (in range), every key entry inside the key blob, the lookup table sorted and in
    /// range. One sentence per problem, naming the file; empty when the graph is sound. Reads every byte.
    package func verify() -> [String] {
        var problems = checksumProblems() + headerProblems()
        if !problems.isEmpty { return problems }  // the structure below is only meaningful on sound headers
        let d = dimension
        var badNodes = 0, firstBad = ""
        for node in 0..<count {
            let record = nodes.base + layout.offset(of: node)
            let listed = Int(record.u32(4 * d))
            var problem: String?
            if listed > degree {
                problem = "node \(node) lists \(listed) neighbours, more than the degree \(degree)"
            } else {
                for e in 0..<listed {
                    let nb = record.i32(4 * d + 4 + 4 * e)
                    if nb < 0 || Int(nb) >= count {
                        problem = "node \(node) neighbour \(e) is \(nb), outside 0..<\(count)"
                        break
                    }
                }
            }
            if let problem {
                if badNodes == 0 { firstBad = problem }
                badNodes += 1
            }
        }
        if badNodes > 0 {
            problems.append("\(GraphFormat.nodesName): \(badNodes) damaged node record(s), first: \(firstBad)")
        }
        var badEntries = 0
        for node in 0..<count where entry(Int32(node)) == nil { badEntries += 1 }
        if badEntries > 0 { problems.append("\(GraphFormat.keysName): \(badEntries) key entries point outside the key data") }
        let table = keys.base + lookupOffset
        var previous: UInt64 = 0
        for i in 0..<count {
            let hash = table.u64(i * GraphFormat.lookupEntryBytes)
            let node = Int(table.u32(i * GraphFormat.lookupEntryBytes + 8))
            if hash < previous || node >= count {
                problems.append("\(GraphFormat.keysName): lookup entry \(i) is out of order or names node \(node) outside 0..<\(count)")
                break
            }
            previous = hash
        }
        return problems
    }
}
