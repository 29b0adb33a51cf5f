import EngramJSON

/// Decides, before the SDK sees a line, whether it is a message the SDK may parse, and what to answer when not.
///
/// The SDK hands each line to Foundation's `JSONDecoder`, which recurses once per nesting level and has no size
/// bound of its own: a 100,000-deep argument or a 10 MB one must be stopped here. Engram's own reader checks the
/// line first — well-formed JSON, valid UTF-8, nesting within the limit — iteratively and without recursion
/// limits of the stack.
struct MessageGuard: Sendable {
    let limits: MCPServerLimits

    /// What the transport does with a line.
    enum Verdict: Equatable {
        /// Pass the line to the SDK. `requestID` is set for a request (it expects an answer), `cancelled` for a
        /// cancellation notification (its request may never be answered).
        case deliver(requestID: JSONValue?, cancelled: JSONValue?)
        /// Answer with this JSON-RPC error instead; the line is dropped.
        case reject(response: [UInt8])
    }

    func check(_ line: ArraySlice<UInt8>) -> Verdict {
        let maxDepth = limits.maxNestingDepth
        let parsed = line.withUnsafeBytes { bytes in Result { () throws(JSONParseError) in try JSONReader.parse(bytes, maxDepth: maxDepth) } }
        let value: JSONValue
        switch parsed {
        case .success(let parsedValue): value = parsedValue
        case .failure(let error):
            let reason: String
            switch error.reason {
            case .tooDeeplyNested: reason = "the message nests arrays and objects deeper than \(limits.maxNestingDepth) levels"
            case .invalidUTF8: reason = "the message is not valid UTF-8 (at byte \(error.offset))"
            default: reason = "the message is not valid JSON: \(error)"
            }
            return .reject(response: MessageGuard.errorResponse(id: MessageGuard.sniffID(line), code: -32700, message: "Parse error: \(reason)"))
        }
        var requestID: JSONValue?
        var cancelled: JSONValue?
        if let method = value["method"]?.stringValue {
            // Only ids a response can carry back (a string or a number) are waited for at end of input.
            requestID = value["id"].flatMap { $0.stringValue != nil || $0.int64Value != nil ? $0 : nil }
            if method == "notifications/cancelled" { cancelled = value["params"]?["requestId"] }
        }
        return .deliver(requestID: requestID, cancelled: cancelled)
    }

    /// The answer to a line longer than the limit (only its first bytes were kept, to find its id).
    func oversized(prefix: ArraySlice<UInt8>, length: Int) -> [UInt8] {
        MessageGuard.errorResponse(id: MessageGuard.sniffID(prefix), code: -32600,
                                   message: "Invalid request: the message is \(length) bytes; this server accepts at most \(limits.maxMessageBytes) (save large texts in parts)")
    }

    static func errorResponse(id: JSONValue?, code: Int64, message: String) -> [UInt8] {
        JSONWriter.compact(.object(["jsonrpc": "2.0", "id": id ?? .null, "error": .object(["code": .int(code), "message": .string(message)])]))
    }

    /// The top-level `"id"` of a message that could not be parsed as a whole, when it is a plain number or string:
    /// so a client whose request was refused gets the answer to *its* request, not an anonymous error.
    /// A single forward scan that tracks strings and nesting; no recursion however deep the rest is.
    static func sniffID(_ bytes: ArraySlice<UInt8>) -> JSONValue? {
        var i = bytes.startIndex
        var depth = 0
        var previous: UInt8 = 0
        func skipSpace() { while i < bytes.endIndex, [0x20, 0x09, 0x0D, 0x0A].contains(bytes[i]) { i += 1 } }
        /// The end of the string whose opening quote is at `start` (the index of its closing quote).
        func stringEnd(_ start: Int) -> Int? {
            var j = start + 1
            while j < bytes.endIndex {
                if bytes[j] == 0x5C { j += 2; continue }
                if bytes[j] == 0x22 { return j }
                j += 1
            }
            return nil
        }
        while i < bytes.endIndex {
            let byte = bytes[i]
            if byte == 0x22 {
                guard let end = stringEnd(i) else { return nil }
                let isKey = depth == 1 && (previous == 0x7B || previous == 0x2C)
                if isKey && bytes[(i + 1)..<end].elementsEqual("id".utf8) {
                    i = end + 1
                    skipSpace()
                    guard i < bytes.endIndex, bytes[i] == 0x3A else { return nil }
                    i += 1
                    skipSpace()
                    guard i < bytes.endIndex else { return nil }
                    if bytes[i] == 0x22 {
                        guard let close = stringEnd(i), !bytes[(i + 1)..<close].contains(0x5C),
                              let text = String(validating: bytes[(i + 1)..<close], as: UTF8.self) else { return nil }
                        return .string(text)
                    }
                    var digits = i
                    while digits < bytes.endIndex, bytes[digits] == 0x2D || (0x30...0x39).contains(bytes[digits]) { digits += 1 }
                    return Int64(String(decoding: bytes[i..<digits], as: UTF8.self)).map(JSONValue.int)
                }
                previous = 0x22
                i = end + 1
                continue
            }
            switch byte {
            case 0x7B, 0x5B: depth += 1
            case 0x7D, 0x5D: depth -= 1
            default: break
            }
            if ![0x20, 0x09, 0x0D, 0x0A].contains(byte) { previous = byte }
            i += 1
        }
        return nil
    }
}
