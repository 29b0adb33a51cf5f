// What a host program gets with `import Engram`, chosen deliberately: the error type every call throws and the
// JSON value types records carry (`metadata`, unknown fields). Nothing else of the I/O layer (the event loop,
// the syscall wrappers, the atomic-write engine, fault injection) is visible outside this package: those are
// `package` declarations, free to change without breaking a host program.
@_exported import struct EngramIO.EngramError
@_exported import enum EngramJSON.JSONValue
@_exported import struct EngramJSON.JSONObject
