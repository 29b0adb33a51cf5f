import Engram
import EngramIO
import EngramJSON

/// What a writer acknowledged, read from its `ACK …` lines (see `engram-crash-writer`).
public struct AckLog: Sendable {
    /// The last acknowledged version of each memory still expected to exist.
    public var lastSave: [String: Timestamp] = [:]
    /// Memories whose delete was acknowledged (and not saved again since).
    public var deleted: Set<String> = []
    /// A delete that had started (announced) but was not acknowledged when the writer died: either outcome is fine.
    public var inFlightDelete: String?
    /// The newest acknowledged save.
    public var latestAck = Timestamp(microseconds: 0)
    /// How many acknowledgements of any kind.
    public var count = 0
    /// Acknowledged saves in order (for the batch check).
    public var saveCount = 0

    public init(lines: [String]) {
        for line in lines {
            let parts = line.split(separator: " ").map(String.init)
            switch parts.first {
            case "ACK" where parts.count == 3:
                guard let ts = Timestamp(parsing: parts[2]) else { continue }
                lastSave[parts[1]] = ts
                deleted.remove(parts[1])
                latestAck = max(latestAck, ts)
                inFlightDelete = nil
                count += 1
                saveCount += 1
            case "ACKASM":
                inFlightDelete = nil
                count += 1
            case "ACKDEL" where parts.count == 2:
                deleted.insert(parts[1])
                lastSave[parts[1]] = nil
                inFlightDelete = nil
                count += 1
            case "START" where parts.count == 3:
                inFlightDelete = parts[2]
            default:
                break
            }
        }
    }
}
