import EngramCLI

// `engram-graph build …` is `engram graph build …`: the command lives in EngramCLI so tests run it in-process.
await EngramCLI.main(["graph"] + Array(CommandLine.arguments.dropFirst()))
