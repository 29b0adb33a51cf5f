/// What saving a memory *without an id of its own* does when the store already holds a memory with the same
/// content (equal `content_hash` and equal text). A memory saved with an explicit id is always saved: naming an
/// id means that record.
///
/// Agents tend to store the same observation again and again; `reuse` keeps one copy and hands back its id.
public enum DuplicatePolicy: String, Sendable, CaseIterable {
    /// Return the existing memory instead of saving a new one (`engram put` prints
    /// `{"id": <existing>, "duplicate": true}`). The default.
    case reuse
    /// Save it anyway, under its new id.
    case allow
    /// Fail with ``EngramError/Code/duplicate`` naming the existing memory.
    case reject
}
