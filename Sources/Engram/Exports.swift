// A host program imports only `Engram`: the error type, the event loop and the JSON value types come along.
@_exported import EngramIO
@_exported import EngramJSON
