import ArgumentParser
import Engram
import EngramIO
import EngramJSON
import Foundation
import Logging

/// `--format text|json`.
public enum OutputFormat: String, ExpressibleByArgument, Sendable {
    case text, json
}
