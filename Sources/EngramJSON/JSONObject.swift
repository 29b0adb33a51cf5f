/// A JSON object: key/value pairs that keep the order they were read or inserted in.
///
/// Order is kept because record files are meant to be read and diffed by people: a record that is
/// loaded and written back must come out with its keys where they were. Keys are unique (the reader
/// rejects duplicates), so the type also behaves like a dictionary.
///
/// Keys compare with Swift `String` equality (Unicode canonical equivalence), the same rule as
/// `Dictionary<String, _>`; two keys that differ only in normalization count as the same key.
///
/// Equality follows JSON semantics: two objects are equal when they hold the same keys with equal
/// values, in any order. Use `keys` to compare order as well.
///
/// Lookups scan the pairs while the object is small (records have a dozen keys, where a scan is
/// faster than hashing); objects with more than `indexThreshold` keys also keep a hash index.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// One entry, in the shape `Dictionary` uses so that `for (key, value) in object` reads naturally.
    public typealias Element = (key: String, value: JSONValue)

    var pairs: [Element]
    /// Key to position in `pairs`; only present when `pairs.count > indexThreshold`.
    var index: [String: Int]?

    /// Above this many keys lookups go through a hash index instead of a linear scan.
    static var indexThreshold: Int { 16 }

    /// An empty object.
    public init() {
        pairs = []
        index = nil
    }

    /// An object with the given pairs in the given order. Duplicate keys are a programming error
    /// (as in `Dictionary(uniqueKeysWithValues:)`) and stop the program.
    public init<S: Sequence>(uniqueKeysWithValues elements: S) where S.Element == (String, JSONValue) {
        self.init()
        for (key, value) in elements {
            precondition(!contains(key), "JSONObject: duplicate key \"\(key)\"")
            append(key, value)
        }
    }

    /// `["a": 1, "b": "x"]` keeps the written order. Duplicate keys stop the program.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(uniqueKeysWithValues: elements)
    }

    /// Used by the reader, which has already checked that the keys are unique.
    init(uncheckedPairs: [Element], index: [String: Int]?) {
        self.pairs = uncheckedPairs
        if index == nil && uncheckedPairs.count > Self.indexThreshold {
            self.index = Self.buildIndex(uncheckedPairs)
        } else {
            self.index = index
        }
    }

    /// The number of keys.
    public var count: Int { pairs.count }

    /// Whether there are no keys.
    public var isEmpty: Bool { pairs.isEmpty }

    /// The keys in order.
    public var keys: [String] { pairs.map(\.key) }

    /// The values in key order.
    public var values: [JSONValue] { pairs.map(\.value) }

    /// Whether `key` is present.
    public func contains(_ key: String) -> Bool {
        position(of: key) != nil
    }

    /// The value for `key`, or nil. Setting a value keeps an existing key in its place and appends a
    /// new key at the end; setting nil removes the key.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let i = position(of: key) else { return nil }
            return pairs[i].value
        }
        set {
            if let newValue {
                if let i = position(of: key) {
                    pairs[i].value = newValue
                } else {
                    append(key, newValue)
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Removes `key` and returns its value, or returns nil if it was absent. Later keys keep their
    /// relative order.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let i = position(of: key) else { return nil }
        let removed = pairs.remove(at: i).value
        if pairs.count > Self.indexThreshold {
            index = Self.buildIndex(pairs)
        } else {
            index = nil
        }
        return removed
    }

    /// Iterates the pairs in order.
    public func makeIterator() -> IndexingIterator<[Element]> {
        pairs.makeIterator()
    }

    /// The position of `key` in the pairs, or nil.
    func position(of key: String) -> Int? {
        if let index {
            return index[key]
        }
        for i in pairs.indices where pairs[i].key == key {
            return i
        }
        return nil
    }

    /// Appends a key that is known to be absent.
    mutating func append(_ key: String, _ value: JSONValue) {
        pairs.append((key: key, value: value))
        if index != nil {
            index![key] = pairs.count - 1
        } else if pairs.count > Self.indexThreshold {
            index = Self.buildIndex(pairs)
        }
    }

    static func buildIndex(_ pairs: [Element]) -> [String: Int] {
        var index: [String: Int] = [:]
        index.reserveCapacity(pairs.count)
        for (i, pair) in pairs.enumerated() {
            index[pair.key] = i
        }
        return index
    }

    /// Same keys with equal values, in any order (JSON objects are unordered collections).
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.pairs.count == rhs.pairs.count else { return false }
        // Fast path: same order, which is what a round trip produces.
        var sameOrder = true
        for i in lhs.pairs.indices where lhs.pairs[i].key != rhs.pairs[i].key {
            sameOrder = false
            break
        }
        if sameOrder {
            for i in lhs.pairs.indices where lhs.pairs[i].value != rhs.pairs[i].value {
                return false
            }
            return true
        }
        for pair in lhs.pairs {
            guard let other = rhs[pair.key], other == pair.value else { return false }
        }
        return true
    }

    /// Order-independent, to agree with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(pairs.count)
        var sum = 0
        for pair in pairs {
            var h = Hasher()
            h.combine(pair.key)
            h.combine(pair.value)
            sum &+= h.finalize()
        }
        hasher.combine(sum)
    }
}

extension JSONObject: CustomStringConvertible {
    /// The compact JSON text, handy in test failures and logs.
    public var description: String {
        JSONWriter.debugText(.object(self))
    }
}
