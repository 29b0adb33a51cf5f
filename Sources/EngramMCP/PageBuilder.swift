import EngramJSON

/// Fills one page of a list tool within the character budget.
///
/// Items are added in order until the next would take the page past the budget; the caller then returns a cursor
/// at the first item left out. The first item is always taken so a page is never empty: if it alone exceeds the
/// budget, its longest text field (`content`, or an assembly's `description`) is cut to fit and the item says so
/// with `"truncated": true` and the field's full length, so the agent knows to read the rest elsewhere
/// (`resources/read`).
struct PageBuilder {
    let budget: Int
    private(set) var items: [JSONValue] = []
    private var used = 0

    init(budget: Int) { self.budget = budget }

    /// Adds `item` if it fits; returns false (adding nothing) when the page is full.
    mutating func add(_ item: JSONValue) -> Bool {
        var item = item
        var size = item.compactText.utf8.count
        if items.isEmpty && size > budget {
            item = PageBuilder.fitted(item, budget: budget)
            size = item.compactText.utf8.count
        } else if used + size > budget {
            return false
        }
        items.append(item)
        used += size + 1
        return true
    }

    /// `item` with its long text cut so that the whole fits `budget` characters, when it can be.
    static func fitted(_ item: JSONValue, budget: Int) -> JSONValue {
        guard var object = item.objectValue else { return item }
        for field in ["content", "description"] {
            guard let text = object[field]?.stringValue else { continue }
            let excess = JSONValue.object(object).compactText.utf8.count - budget
            guard excess > 0 else { break }
            // Keep whole characters; the margin covers the two markers added below and escaping.
            var kept = Substring(text)
            let target = max(0, text.utf8.count - excess - 96)
            while kept.utf8.count > target { kept = kept.dropLast(max(1, (kept.utf8.count - target) / 4)) }
            object[field] = .string(String(kept))
            object["truncated"] = .bool(true)
            object["\(field)_length"] = .int(Int64(text.utf8.count))
        }
        return .object(object)
    }
}
