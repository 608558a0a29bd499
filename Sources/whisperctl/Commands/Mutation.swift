import ArgumentParser
import Foundation
import OpsKit

/// What every mutating command shares: the operations lock's wait.
struct LockOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Wait this long for the operations lock when another command holds it (default: fail at once).", valueName: "duration"))
    var wait: Duration?
}

/// How a command hands its operation to the one runner, and reports how it ended.
enum Mutation {
    /// The runner as a command uses it: confirmation on the terminal (or `--yes`), progress and
    /// lock waits on stderr unless `quiet`.
    static func runner(
        _ inventory: Inventory, wait: Duration?, yes: Bool, quiet: Bool, progress: (@Sendable (String) -> Void)? = nil
    ) -> OperationRunner {
        OperationRunner(
            inventory: inventory, lockWait: wait, confirm: { question in confirm(question, yes: yes) },
            progress: progress ?? { line in if !quiet { printError(line) } },
            waitingForLock: { holder, backend in
                if !quiet { printError("waiting for the operations lock: held by \(holder.describe()) [\(backend)]") }
            },
            auditFailed: { error in printError("warning: not written to the audit log: \(error)") })
    }

    /// Runs `operation`; a failure is printed (`whisperctl COMMAND: why`) and becomes the
    /// command's exit status.
    @discardableResult
    static func run<O: OpsOperation>(_ runner: OperationRunner, _ operation: O, command: String, confirmed: Bool = false) async throws -> O.Outcome {
        do {
            return try await runner.run(operation, confirmed: confirmed)
        } catch {
            printError("whisperctl \(command): \(error)")
            throw ExitStatus(error)
        }
    }

    /// What `operation` would do; a failure to plan is printed and becomes the exit status.
    static func plan<O: OpsOperation>(_ runner: OperationRunner, _ operation: O, command: String) async throws -> OperationPlan {
        do {
            return try await runner.plan(operation)
        } catch {
            printError("whisperctl \(command): \(error)")
            throw ExitStatus(error)
        }
    }

    /// Asks on the terminal; without one, only `--yes` agrees.
    static func confirm(_ question: String, yes: Bool) -> Bool {
        if yes { return true }
        guard isatty(STDIN_FILENO) == 1 else {
            printError("\(question)\nrefusing: no terminal to ask on; pass --yes to confirm")
            return false
        }
        FileHandle.standardError.write(Data("\(SecretRegistry.shared.scrub(question)) [y/N] ".utf8))
        guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return answer == "y" || answer == "yes"
    }

    /// A progress line that overwrites the last one on a terminal (and prints nothing elsewhere).
    static let overwriting: @Sendable (String) -> Void = { line in
        guard isatty(STDERR_FILENO) == 1 else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    /// Clears what `overwriting` left on the line.
    static func clearProgress() {
        if isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
