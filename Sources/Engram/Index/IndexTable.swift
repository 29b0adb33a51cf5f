/// id → entry for one kind of record: the sorted table of a mapped `memory_index.bin` (the last checkpoint) plus
/// an in-memory overlay of what changed since. It keeps the part of `Dictionary`'s API the store uses, so the
/// index reads as before while open no longer builds a dictionary of every record.
///
/// Value semantics: the base is an immutable shared reference and the overlay a copy-on-write dictionary, so a
/// ``CentralIndex`` snapshot (taken by checkpoints and the derived tiers' loads) costs O(1) until one side writes.
/// Lookups try the overlay, then binary-search the base. Iteration is in id byte order (base and overlay merged)
/// and O(n), for maintenance and the derived tiers' background diff.
struct IndexTable<Entry: MappedIndexEntry>: Sendable, Sequence {
    typealias Element = (key: String, value: Entry)

    fileprivate enum Change: Sendable, Equatable {
        case set(Entry)
        /// Present in the base, removed since.
        case removed
    }

    private(set) var base: BinaryIndexFile?
    private var overlay: [String: Change] = [:]
    private(set) var count = 0
    /// Entries with an embedding dimension (kept current by every write, so statistics need no iteration).
    private(set) var withDimension = 0
    /// Bumped by every write: two copies of one table with the same version hold the same entries (how a
    /// checkpoint knows nothing changed while it wrote, so the table can move onto the file it just wrote).
    private(set) var version: UInt64 = 0

    init() {}

    init(base: BinaryIndexFile) {
        self.base = base
        count = base.count(Entry.section)
        withDimension = base.countWithDimension(Entry.section)
    }

    var isEmpty: Bool { count == 0 }

    /// Entries changed since the base (what a checkpoint makes redundant).
    var overlayCount: Int { overlay.count }

    private func basePosition(_ id: String) -> Int? { base?.position(of: id, in: Entry.section) }

    subscript(id: String) -> Entry? {
        get {
            if let change = overlay[id] {
                if case .set(let entry) = change { return entry }
                return nil
            }
            guard let base, let position = basePosition(id) else { return nil }
            return Entry.read(from: base, at: position)
        }
        set {
            version &+= 1
            let old = self[id]
            let existed = old != nil
            if old?.dimension != nil { withDimension -= 1 }
            if newValue?.dimension != nil { withDimension += 1 }
            if let newValue {
                overlay[id] = .set(newValue)
                if !existed { count += 1 }
            } else if existed {
                count -= 1
                overlay[id] = basePosition(id) != nil ? .removed : nil
            }
        }
    }

    func contains(_ id: String) -> Bool { self[id] != nil }

    mutating func reserveCapacity(_ n: Int) { overlay.reserveCapacity(n) }

    /// Every id, in byte order.
    var keys: [String] {
        var result: [String] = []
        result.reserveCapacity(count)
        for (id, _) in self { result.append(id) }
        return result
    }

    var values: LazyMapSequence<IndexTable<Entry>, Entry> { lazy.map(\.value) }

    /// The entries that satisfy `isIncluded`, as a dictionary (what `Dictionary.filter` returns).
    func filter(_ isIncluded: (Element) throws -> Bool) rethrows -> [String: Entry] {
        var result: [String: Entry] = [:]
        for element in self where try isIncluded(element) { result[element.key] = element.value }
        return result
    }

    /// The same entries over `file` (just written from exactly these entries): the overlay empties.
    mutating func rebase(onto file: BinaryIndexFile) {
        base = file
        overlay = [:]
        count = file.count(Entry.section)
        withDimension = file.countWithDimension(Entry.section)
        version &+= 1
    }

    // MARK: Iteration

    func makeIterator() -> Iterator {
        // Overlay entries the base lacks are merged in order; those the base holds are met at its position.
        var added: [(key: String, value: Entry)] = []
        for (id, change) in overlay {
            guard case .set(let entry) = change, basePosition(id) == nil else { continue }
            added.append((id, entry))
        }
        added.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        return Iterator(base: base, overlay: overlay, added: added)
    }

    struct Iterator: IteratorProtocol {
        fileprivate let base: BinaryIndexFile?
        fileprivate let overlay: [String: Change]
        fileprivate let added: [(key: String, value: Entry)]
        private var basePosition = 0
        private var addedPosition = 0
        private var pendingBase: (key: String, value: Entry)?

        fileprivate init(base: BinaryIndexFile?, overlay: [String: Change], added: [(key: String, value: Entry)]) {
            self.base = base
            self.overlay = overlay
            self.added = added
        }

        /// The next live base entry with the overlay applied (changed entries replaced, removed ones skipped).
        private mutating func nextBase() -> (key: String, value: Entry)? {
            guard let base else { return nil }
            while basePosition < base.count(Entry.section) {
                let position = basePosition
                basePosition += 1
                guard let id = base.id(Entry.section, position) else { continue }
                switch overlay[id] {
                case .set(let entry): return (id, entry)
                case .removed: continue
                case nil:
                    guard let entry = Entry.read(from: base, at: position) else { continue }
                    return (id, entry)
                }
            }
            return nil
        }

        mutating func next() -> (key: String, value: Entry)? {
            if pendingBase == nil { pendingBase = nextBase() }
            if addedPosition < added.count {
                let candidate = added[addedPosition]
                if let b = pendingBase, b.key.utf8.lexicographicallyPrecedes(candidate.key.utf8) {
                    pendingBase = nil
                    return b
                }
                addedPosition += 1
                return candidate
            }
            defer { pendingBase = nil }
            return pendingBase
        }
    }
}

extension IndexTable: Equatable {
    /// Same entries (order-independent), whatever the base/overlay split.
    static func == (a: IndexTable, b: IndexTable) -> Bool {
        guard a.count == b.count else { return false }
        for (id, entry) in a where b[id] != entry { return false }
        return true
    }
}
