import ArgumentParser
import Engram
import EngramIO
import EngramJSON

/// Runs `engram` with arguments and returns the exit status, printing through ``Console/current``.
public enum EngramCLI {
    public static func run(_ arguments: [String]) async -> Int32 {
        // SPEC §4: `engram [--store DIR] COMMAND …`. The option is also accepted after the command.
        var arguments = arguments
        var leading: String?
        if arguments.first == "--store", arguments.count >= 2 {
            leading = arguments[1]
            arguments.removeFirst(2)
        } else if let first = arguments.first, first.hasPrefix("--store=") {
            leading = String(first.dropFirst("--store=".count))
            arguments.removeFirst()
        }
        return await StoreOptions.$leadingStore.withValue(leading) { await runParsed(arguments) }
    }

    private static func runParsed(_ arguments: [String]) async -> Int32 {
        let console = Console.current
        do {
            var command = try EngramCommand.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let error as EngramError {
            console.err("engram: error: \(error)")
            return error.code == .usage ? 64 : 1
        } catch let error as CommandFailure {
            console.err("engram: error: \(error.message)")
            return error.status
        } catch {
            let code = EngramCommand.exitCode(for: error)
            let message = EngramCommand.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { console.out(message) }
            } else if !message.isEmpty {
                console.err(message)
            }
            return code.rawValue
        }
    }

    /// The executable's entry point.
    public static func main(_ arguments: [String]) async -> Never {
        let status = await run(arguments)
        exit(status)
    }
}

#if canImport(Glibc)
import Glibc
#endif
