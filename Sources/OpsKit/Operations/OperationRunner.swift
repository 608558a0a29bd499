import Foundation

/// The one place that runs operations: it plans, asks for confirmation, takes the operations
/// lock, runs, writes the audit log however the run ends (succeeded, refused, failed,
/// interrupted) and releases the lock, also when the run throws.
public struct OperationRunner: Sendable {
    public var inventory: Inventory
    /// Wait this long for a lock someone else holds (nil: fail at once).
    public var lockWait: Duration?
    /// Answers the plan's confirmation question (on a terminal, or `--yes`).
    public var confirm: @Sendable (String) -> Bool
    public var progress: @Sendable (String) -> Void
    /// Told who holds the lock, once, when waiting for it.
    public var waitingForLock: @Sendable (LockHolder, String) -> Void
    /// Told when an audit line could not be written (the run itself goes on).
    public var auditFailed: @Sendable (any Error) -> Void
    /// Chooses the lock's home; by default the inventory's (`OperationsLock.backend`).
    var lockBackend: @Sendable (Inventory) throws -> LockBackend
    /// Whether a run turns SIGINT, SIGTERM and SIGHUP into its interruption; false where the
    /// caller owns the signals (the dashboard, whose Ctrl-C quits).
    public var trapsSignals = true
    /// An emergency action (the dashboard's `--emergency`): when another command holds the
    /// lock, run anyway without it, say so and audit whose lock it overrode. Never the default.
    public var takesPrecedence = false
    /// A runbook run this operation is a step of: it holds the operations lock already (a
    /// nested operation inherits it rather than taking it twice), owns the signals, and its id
    /// goes into every audit line.
    public var enclosingRun: EnclosingRun?

    public init(
        inventory: Inventory, lockWait: Duration? = nil, confirm: @escaping @Sendable (String) -> Bool = { _ in false },
        progress: @escaping @Sendable (String) -> Void = { _ in }, waitingForLock: @escaping @Sendable (LockHolder, String) -> Void = { _, _ in },
        auditFailed: @escaping @Sendable (any Error) -> Void = { _ in },
        lockBackend: @escaping @Sendable (Inventory) throws -> LockBackend = { try OperationsLock.backend(for: $0) }
    ) {
        self.inventory = inventory
        self.lockWait = lockWait
        self.confirm = confirm
        self.progress = progress
        self.waitingForLock = waitingForLock
        self.auditFailed = auditFailed
        self.lockBackend = lockBackend
    }

    var auditLog: AuditLog { AuditLog(path: inventory.auditLogPath, deployment: inventory.deployment) }

    /// A context for `operation`'s plan, check or run; what it records is audited under its command.
    public func context<O: OpsOperation>(for operation: O, interruption: Interruption = Interruption()) -> OperationContext {
        let log = auditLog
        let auditFailed = self.auditFailed
        return OperationContext(
            inventory: inventory, progress: progress, confirm: confirm, interruption: interruption,
            record: { [enclosingRun] action, target, outcome, details in
                let within: [(String, JSONValue)] = enclosingRun.map { [("runbook_run", .string($0.id))] } ?? []
                Self.write(
                    log, AuditLog.Entry(command: operation.command, action: action, target: target, outcome: outcome, details: details + within), failed: auditFailed)
            })
    }

    /// Whether `operation`'s effect is already in place.
    public func check<O: OpsOperation>(_ operation: O) async throws(OperationFailure) -> Bool {
        do { return try await operation.check(in: context(for: operation)) } catch { throw .failed(error) }
    }

    /// What `operation` would do; takes no lock and changes nothing.
    public func plan<O: OpsOperation>(_ operation: O) async throws(OperationFailure) -> OperationPlan {
        do { return try await operation.plan(in: context(for: operation)) } catch let failure as OperationFailure { throw failure } catch {
            throw .failed(error)
        }
    }

    /// Plans, confirms, locks, runs, audits and releases.
    /// - Parameter confirmed: the plan was already shown and agreed to.
    /// - Throws: `OperationFailure`; every case is in the audit log.
    @discardableResult
    public func run<O: OpsOperation>(_ operation: O, confirmed: Bool = false) async throws(OperationFailure) -> O.Outcome {
        let interruption = enclosingRun?.interruption ?? Interruption()
        let context = context(for: operation, interruption: interruption)
        func audit(_ outcome: AuditLog.Entry.Outcome, target: String? = nil, details: [(String, JSONValue)] = []) {
            context.record(operation.action, target ?? operation.target, outcome, details)
        }
        if !confirmed {
            let plan: OperationPlan
            do { plan = try await operation.plan(in: context) } catch let failure as OperationFailure {
                audit(Self.outcome(of: failure))
                throw failure
            } catch {
                // Nothing was changed: the run was refused for want of a plan.
                audit(.refused("cannot plan: \(error)"))
                throw .failed(error)
            }
            if let question = plan.confirmation, !confirm(question) {
                audit(.refused("not confirmed"))
                throw .refused("not confirmed; nothing was changed")
            }
        }
        var held: HeldLock?
        var overridden: LockHolder?
        do throws(OperationFailure) {
            held = operation.takesLock && enclosingRun == nil ? try await lock(operation) : nil
        } catch {
            switch error {
            case .lockHeld(let holder, _) where takesPrecedence:
                overridden = holder
                context.progress("warning: emergency: running without the operations lock, held by \(holder.describe())")
            case .lockHeld(let holder, _):
                audit(.refused("the operations lock is held by \(holder.describe())"))
                throw error
            default:
                audit(.failed("\(error)"))
                throw error
            }
        }
        // Signals stop the run at a safe point instead of killing the process mid-write.
        let trap = trapsSignals && enclosingRun == nil ? SignalTrap { number in interruption.interrupt(number) } : nil
        let result: Result<O.Outcome, any Error>
        do {
            result = .success(try await operation.run(in: context))
        } catch {
            result = .failure(error)
        }
        trap?.remove()
        // A lock that expired under a stalled run may have let another operation overlap it.
        var lockDetails: [(String, JSONValue)] = overridden.map { [("took_precedence_over", .string($0.describe()))] } ?? []
        if let held, held.lost || held.failedHeartbeats > 0 {
            if held.lost { context.progress("warning: the operations lock expired during the run and was taken by another holder: operations may have overlapped") }
            lockDetails = [("lock_lost", .bool(held.lost)), ("failed_heartbeats", .int(held.failedHeartbeats))]
        }
        if let held, let failure = await held.release() {
            context.progress("warning: the operations lock could not be released (\(held.backend)): \(failure); it lapses on its own")
            lockDetails.append(("lock_release_failed", .string("\(failure)")))
        }
        switch result {
        case .success(let outcome):
            let record = operation.audit(outcome)
            audit(record.outcome, target: record.target, details: record.details + lockDetails)
            if let signal = interruption.signal, record.outcome == .succeeded {
                // It finished anyway: say so, but it is done.
                context.progress("signal \(signal) arrived as the run finished; it completed")
            }
            return outcome
        case .failure(let error as OperationFailure):
            audit(Self.outcome(of: error), details: lockDetails)
            throw error
        case .failure(let error):
            if let signal = interruption.signal {
                audit(.interrupted("signal \(signal): \(error)"), details: lockDetails)
                throw .interrupted(signal: signal, cause: error)
            }
            audit(.failed("\(error)"), details: lockDetails)
            throw .failed(error)
        }
    }

    private func lock<O: OpsOperation>(_ operation: O) async throws(OperationFailure) -> HeldLock {
        let backend: LockBackend
        do { backend = try lockBackend(inventory) } catch {
            throw .lockUnavailable(backend: "lock.backend", cause: error)
        }
        let name = "\(operation.command) \(operation.action)".trimmingCharacters(in: .whitespaces)
        let waiting = waitingForLock
        do {
            return try await OperationsLock.acquire(backend, command: name, wait: lockWait) { holder in waiting(holder, backend.description) }
        } catch let failure as OperationsLock.Failure {
            switch failure {
            case .held(let holder, let description): throw .lockHeld(by: holder, backend: description)
            case .unavailable(let description, let reason): throw .lockUnavailable(backend: description, cause: OpsError(.unreachable, reason))
            }
        } catch {
            throw .lockUnavailable(backend: backend.description, cause: error)
        }
    }

    static func outcome(of failure: OperationFailure) -> AuditLog.Entry.Outcome {
        switch failure {
        case .refused(let reason): return .refused(reason)
        case .lockHeld(let holder, _): return .refused("the operations lock is held by \(holder.describe())")
        case .interrupted(let signal, let cause): return .interrupted("signal \(signal)" + (cause.map { ": \($0)" } ?? ""))
        case .lockUnavailable, .failed: return .failed(failure.description)
        }
    }

    static func write(_ log: AuditLog, _ entry: AuditLog.Entry, failed: @Sendable (any Error) -> Void) {
        do { try log.record(entry) } catch { failed(error) }
    }
}

/// The runbook run an operation runs inside (`OperationRunner.enclosingRun`).
public struct EnclosingRun: Sendable {
    public var id: String
    public var interruption: Interruption

    public init(id: String, interruption: Interruption) {
        self.id = id
        self.interruption = interruption
    }
}
