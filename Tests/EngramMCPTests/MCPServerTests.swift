import Testing
@testable import EngramMCP
