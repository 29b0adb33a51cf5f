/// What the keyword index holds and how it ranks (``StoreConfiguration/keywords``). Every property documents its
/// default. Part of the index's files: changing any of it rebuilds `keyword_index/` from the records at open.
public struct KeywordConfiguration: Sendable, Equatable {
    /// BM25's term-frequency saturation: how much a second, third… occurrence of a word adds. Default 1.2.
    public var k1: Float = 1.2
    /// BM25's length normalisation: 0 ignores document length, 1 scales fully by it. Default 0.75.
    public var b: Float = 0.75
    /// Top-level `metadata` keys whose values (strings, numbers, arrays of them) are indexed with a memory's
    /// content, e.g. `["tags", "source"]`. Default: none.
    public var metadataFields: [String] = []
    /// Index assemblies too (name, description, keywords and tags), for `scope: .assemblies` or `.all`. Default: `true`.
    public var assemblies = true

    public init(k1: Float = 1.2, b: Float = 0.75, metadataFields: [String] = [], assemblies: Bool = true) {
        self.k1 = k1
        self.b = b
        self.metadataFields = metadataFields
        self.assemblies = assemblies
    }

    /// Parses ``fingerprint``; nil if it is not one.
    init?(fingerprint: String) {
        var fields: [String: String] = [:]
        for part in fingerprint.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { return nil }
            fields[String(pair[0])] = String(pair[1])
        }
        guard let k1 = fields["k1"].flatMap(Float.init), let b = fields["b"].flatMap(Float.init), let names = fields["fields"],
              let assemblies = fields["assemblies"].flatMap(Bool.init)
        else { return nil }
        self.init(k1: k1, b: b, metadataFields: names.isEmpty ? [] : names.split(separator: ",").map(String.init), assemblies: assemblies)
    }

    /// What the manifest records, to notice a configuration change.
    var fingerprint: String {
        "k1=\(k1);b=\(b);fields=\(metadataFields.joined(separator: ","));assemblies=\(assemblies)"
    }
}
