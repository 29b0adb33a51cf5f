import EngramJSON
@_exported import EngramTestSupport
import Testing

/// The UTF-8 text of writer output.
func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

/// Parses and returns the error, or nil when the input was accepted.
func parseError(_ input: [UInt8], maxDepth: Int = 512) -> JSONParseError? {
    do {
        _ = try JSONReader.parse(input, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

/// Parses and returns the error, or nil when the input was accepted.
func parseError(_ input: String, maxDepth: Int = 512) -> JSONParseError? {
    parseError(Array(input.utf8), maxDepth: maxDepth)
}

/// Collects the values and start lines of a sequence, and the error that stopped it if any.
func collectSequence(_ input: String) -> (values: [JSONValue], lines: [Int], error: JSONParseError?) {
    var values: [JSONValue] = []
    var lines: [Int] = []
    var failure: JSONParseError?
    let bytes = Array(input.utf8)
    bytes.withUnsafeBytes { raw in
        do {
            try JSONReader.parseSequence(raw) { value, line in
                values.append(value)
                lines.append(line)
            }
        } catch let error as JSONParseError {
            failure = error
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }
    return (values, lines, failure)
}

