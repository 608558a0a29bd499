import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import OpsKit

/// What every mutating command shares: the operations lock, confirmation, the audit log, and
/// signals that stop the work cleanly rather than kill the process mid-write.
struct LockOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Wait this long for the operations lock when another command holds it (default: fail at once).", valueName: "duration"))
    var wait: Duration?
}

enum Mutation {
    /// Takes the deployment's operations lock, or exits 1 naming who holds it.
    static func lock(_ inventory: Inventory, command: String, wait: Duration?, quiet: Bool = false) async throws -> HeldLock {
        let backend: LockBackend
        do {
            backend = try OperationsLock.backend(for: inventory)
        } catch {
            printError("whisperctl \(command): \(error)")
            throw ExitCode(3)
        }
        do {
            return try await OperationsLock.acquire(backend, command: command, wait: wait) { holder in
                if !quiet { printError("waiting for the operations lock: held by \(holder.describe()) [\(backend.description)]") }
            }
        } catch let failure as OperationsLock.Failure {
            printError("whisperctl \(command): \(failure)")
            // Held by someone else: refused. The lock's backend unreachable: failed.
            if case .held = failure { throw ExitCode(1) }
            throw ExitCode(2)
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

    static func audit(_ inventory: Inventory, command: String, action: String, target: String, outcome: AuditLog.Entry.Outcome, details: [(String, JSONValue)] = []) {
        let log = AuditLog(path: inventory.auditLogPath, deployment: inventory.deployment)
        do {
            try log.record(AuditLog.Entry(command: command, action: action, target: target, outcome: outcome, details: details))
        } catch {
            printError("warning: not written to the audit log: \(error)")
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP turned into a callback while mutating work runs, so it can stop at a
/// safe point (remove a partial backup, let pg_restore roll back) instead of dying mid-write.
final class InterruptTrap {
    private var sources: [DispatchSourceSignal] = []
    private let receivedBox = NIOLockedValueBox<Int32?>(nil)

    init(_ handler: @escaping @Sendable (Int32) -> Void) {
        var made: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM, SIGHUP] {
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [receivedBox] in
                receivedBox.withLockedValue { $0 = $0 ?? number }
                handler(number)
            }
            source.resume()
            made.append(source)
        }
        sources = made
    }

    /// The first signal received, if any.
    var received: Int32? { receivedBox.withLockedValue { $0 } }

    func remove() {
        for source in sources { source.cancel() }
        for number in [SIGINT, SIGTERM, SIGHUP] { Glibc.signal(number, SIG_DFL) }
    }
}
