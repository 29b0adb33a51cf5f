/// A least-recently-used cache with O(1) get, insert and eviction (a dictionary of slots in a doubly linked
/// list kept in an array, so no per-node allocation).
struct LRUCache<Key: Hashable, Value> {
    private struct Node {
        var key: Key
        var value: Value
        var previous: Int
        var next: Int
    }

    let capacity: Int
    private var slots: [Key: Int] = [:]
    private var nodes: [Node] = []
    private var free: [Int] = []
    private var head = -1  // most recent
    private var tail = -1  // least recent
    private(set) var hits = 0
    private(set) var misses = 0

    init(capacity: Int) { self.capacity = max(0, capacity) }

    var count: Int { slots.count }

    mutating func value(for key: Key) -> Value? {
        guard let slot = slots[key] else { misses += 1; return nil }
        hits += 1
        moveToFront(slot)
        return nodes[slot].value
    }

    mutating func insert(_ value: Value, for key: Key) {
        guard capacity > 0 else { return }
        if let slot = slots[key] {
            nodes[slot].value = value
            moveToFront(slot)
            return
        }
        if slots.count >= capacity, tail >= 0 { remove(tail) }
        let node = Node(key: key, value: value, previous: -1, next: head)
        let slot: Int
        if let reused = free.popLast() { nodes[reused] = node; slot = reused } else { nodes.append(node); slot = nodes.count - 1 }
        if head >= 0 { nodes[head].previous = slot }
        head = slot
        if tail < 0 { tail = slot }
        slots[key] = slot
    }

    mutating func removeValue(for key: Key) {
        if let slot = slots[key] { remove(slot) }
    }

    mutating func removeAll() {
        slots = [:]; nodes = []; free = []; head = -1; tail = -1
    }

    private mutating func unlink(_ slot: Int) {
        let p = nodes[slot].previous, n = nodes[slot].next
        if p >= 0 { nodes[p].next = n } else { head = n }
        if n >= 0 { nodes[n].previous = p } else { tail = p }
    }

    private mutating func moveToFront(_ slot: Int) {
        guard slot != head else { return }
        unlink(slot)
        nodes[slot].previous = -1
        nodes[slot].next = head
        if head >= 0 { nodes[head].previous = slot }
        head = slot
        if tail < 0 { tail = slot }
    }

    private mutating func remove(_ slot: Int) {
        unlink(slot)
        slots[nodes[slot].key] = nil
        free.append(slot)
    }
}
