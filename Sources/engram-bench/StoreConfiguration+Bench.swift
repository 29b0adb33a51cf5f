import Engram

extension StoreConfiguration {
    /// The defaults, but no background graph build: a child process building a graph would skew every figure
    /// measured while it runs (figures about the graph build it in the foreground, timed).
    static var bench: StoreConfiguration {
        var configuration = StoreConfiguration()
        configuration.graphRebuild.enabled = false
        return configuration
    }
}
