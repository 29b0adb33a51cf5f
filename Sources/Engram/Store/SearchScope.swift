import EngramIO
import EngramJSON
import EngramVector

/// Which records a search considers.
public enum SearchScope: String, Sendable, CaseIterable {
    case memories, assemblies, all

    var kinds: [RecordKind] {
        switch self {
        case .memories: [.memory]
        case .assemblies: [.assembly]
        case .all: [.memory, .assembly]
        }
    }
}
