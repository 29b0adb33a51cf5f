import EngramIO

/// The two kinds of record.
public enum RecordKind: String, Sendable, CaseIterable {
    case memory, assembly

    /// The directory of this kind's files inside the store.
    public var directoryName: String { self == .memory ? "memories" : "assemblies" }
}
