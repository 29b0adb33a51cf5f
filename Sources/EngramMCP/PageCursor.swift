import Engram
import EngramIO
import EngramJSON
import Foundation

/// The opaque `cursor` of a list tool: where the next page starts, for which tool and which question.
///
/// It is base64url of a small JSON object. A page is resumed by key (`after`: the last item's sort key) where the
/// order is stable (ids, update times), so memories saved or deleted between calls shift nothing; search pages by
/// `offset`, since a search's ranking has no key of its own. The fingerprint of the other arguments makes a cursor
/// from one question useless for another, rather than silently wrong.
struct PageCursor: Equatable {
    var tool: String
    var fingerprint: String
    var after: String?
    var offset: Int = 0

    var encoded: String {
        var object: JSONObject = ["t": .string(tool), "f": .string(fingerprint)]
        if let after { object["a"] = .string(after) }
        if offset > 0 { object["o"] = .int(Int64(offset)) }
        return Data(JSONWriter.compact(.object(object))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Decodes the cursor `arguments` carry, if any, and checks that it belongs to this call.
    static func decode(from arguments: ToolArguments, fingerprint: String) throws(EngramError) -> PageCursor? {
        guard let text = try arguments.string("cursor") else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard text.utf8.count <= 1024, let data = Data(base64Encoded: base64), let value = try? JSONReader.parse([UInt8](data)),
              let tool = value["t"]?.stringValue, let seen = value["f"]?.stringValue
        else {
            throw arguments.failure("cursor", "is not a cursor this server issued")
        }
        guard tool == arguments.tool, seen == fingerprint else {
            throw EngramError(code: .usage, message: "the cursor belongs to another question (a different tool or different arguments)",
                              operation: arguments.tool, remedy: "repeat the call that returned the cursor with the same arguments, or drop the cursor to start again")
        }
        let offset = value["o"]?.int64Value.map(Int.init) ?? 0
        guard offset >= 0 else { throw arguments.failure("cursor", "is not a cursor this server issued") }
        return PageCursor(tool: tool, fingerprint: seen, after: value["a"]?.stringValue, offset: offset)
    }
}
