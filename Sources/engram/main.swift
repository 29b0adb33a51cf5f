import EngramCLI

// The command line lives in EngramCLI so that tests can run it in-process.
await EngramCLI.main(Array(CommandLine.arguments.dropFirst()))
