extension KeywordSegment {
    /// Everything a full pass finds wrong: checksum, doc table (key ranges, key order, length sum), term table
    /// (term ranges, term order), postings (count = df, docs increasing and in range, skip tables). One sentence
    /// per problem, naming the file; at most `limit`.
    func check(limit: Int = 50) -> [String] {
        var problems: [String] = []
        func problem(_ text: @autoclosure () -> String) {
            if problems.count < limit { problems.append("\(path): \(text())") }
        }
        if base.le64(trailer + 24) != KeywordFormat.hash(base, trailer) { problem("checksum mismatch") }
        var lengthSum = 0
        for doc in 0..<docCount {
            let e = docTable + doc * KeywordFormat.docEntryBytes
            if Int(base.le32(e)) + Int(base.le32(e + 4)) > keyBytes { problem("doc \(doc): key range outside the key blob") }
            if doc > 0, compareBytes(keyBytes(doc - 1), keyBytes(doc)) >= 0 { problem("doc \(doc): keys not strictly increasing") }
            lengthSum += length(doc)
        }
        if lengthSum != totalLength { problem("document lengths sum to \(lengthSum), the header says \(totalLength)") }
        for term in 0..<termCount {
            if problems.count >= limit { break }
            let e = termTable + term * KeywordFormat.termEntryBytes
            if Int(base.le32(e)) + Int(base.le32(e + 4)) > termBytes || base.le32(e + 4) == 0 { problem("term \(term): bad term range") }
            if term > 0, compareBytes(termBytes(term - 1), termBytes(term)) >= 0 { problem("term \(term): terms not strictly increasing") }
            let offset = base.le64(e + 16), length = Int(base.le32(e + 12))
            guard offset <= UInt64(postingsBytes), Int(offset) + length <= postingsBytes else {
                problem("term \(term): postings outside the postings section")
                continue
            }
            let list = postingsList(term)
            let stream = list.count - list.streamStart
            guard list.df > 0, stream > 0 else {
                problem("term \(term): empty postings (df \(list.df), \(length) bytes)")
                continue
            }
            // Decode block by block (one block when there is no skip table) and compare with the table.
            let blocks = max(1, KeywordFormat.skipEntries(df: list.df))
            let hasTable = KeywordFormat.skipEntries(df: list.df) > 0
            var decoded = 0, previous = -1, from = 0
            for b in 0..<blocks {
                let (last, end) = hasTable ? list.skip(b) : (-1, stream)
                guard end >= from, end <= stream else {
                    problem("term \(term): skip entry \(b) points outside its postings")
                    break
                }
                var n = 0
                list.decode(from: from, to: end, previous: previous) { doc, _ in previous = doc; n += 1 }
                decoded += n
                if hasTable, previous != last { problem("term \(term): skip entry \(b) says last doc \(last), the block ends at \(previous)") }
                from = end
            }
            if decoded != list.df { problem("term \(term): \(decoded) valid postings, df says \(list.df) (damaged or out-of-range doc numbers)") }
        }
        return problems
    }
}
