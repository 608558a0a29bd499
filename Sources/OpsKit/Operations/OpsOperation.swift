import Foundation

/// One change to a deployment (or one check of it), in the shape every mutating command, every
/// dashboard action and every runbook step shares: it can say what it would do, whether its
/// effect is already in place, and do it. `OperationRunner` is the only caller of `run`.
public protocol OpsOperation: Sendable {
    associatedtype Outcome: Sendable

    /// The audit log's `command` and `action`: "backup" and "create", "migrate" and "up".
    var command: String { get }
    var action: String { get }
    /// What it acts on, as the audit log names it: a path, a database, a server list.
    var target: String { get }
    /// Whether it takes the operations lock; only `lock break` (which removes someone else's)
    /// and read-only checks do not.
    var takesLock: Bool { get }

    /// What `run` would do with the current inventory and live state; changes nothing.
    func plan(in context: OperationContext) async throws -> OperationPlan
    /// Whether the effect is already in place, so a retried or resumed procedure never repeats a
    /// change blindly.
    func check(in context: OperationContext) async throws -> Bool
    /// Does it. Long work reports through `context.progress` and stops at a safe point when
    /// `context.interruption` fires.
    func run(in context: OperationContext) async throws -> Outcome
    /// How a finished run is recorded: succeeded by default; a run that finished but did not
    /// reach its goal (rows differ, a rollout stopped) says so here.
    func audit(_ outcome: Outcome) -> OperationRecord
}

extension OpsOperation {
    public var takesLock: Bool { true }
    public func audit(_ outcome: Outcome) -> OperationRecord { OperationRecord(outcome: .succeeded) }
}

/// What an operation would do, before it does anything.
public struct OperationPlan: Sendable, Equatable {
    /// One line per change, in order; empty: nothing to do.
    public var steps: [String]
    /// The question asked before running (nil: nothing to confirm). Asked after the plan is
    /// shown and before the lock is taken; `--yes` answers it.
    public var confirmation: String?

    public init(steps: [String], confirmation: String? = nil) {
        self.steps = steps
        self.confirmation = confirmation
    }

    public var isEmpty: Bool { steps.isEmpty }
}

/// How a finished run goes into the audit log.
public struct OperationRecord: Sendable {
    public var outcome: AuditLog.Entry.Outcome
    /// Replaces the operation's target when the run knows it better (the backup's path).
    public var target: String?
    var details: [(String, JSONValue)]

    public init(outcome: AuditLog.Entry.Outcome, target: String? = nil, details: [(String, JSONValue)] = []) {
        self.outcome = outcome
        self.target = target
        self.details = details
    }
}

/// What an operation may use while it plans, checks and runs.
public struct OperationContext: Sendable {
    public var inventory: Inventory
    /// A line of progress for the operator (stderr on a terminal; nothing with --json).
    public var progress: @Sendable (String) -> Void
    /// Asks the operator something beyond the plan's confirmation (replace this file?).
    public var confirm: @Sendable (String) -> Bool
    /// Fires on Ctrl-C, SIGTERM or SIGHUP while the operation runs.
    public let interruption: Interruption
    /// Records a step of the run in the audit log (each pruned backup), beside the operation's
    /// own line.
    public var record: @Sendable (_ action: String, _ target: String, _ outcome: AuditLog.Entry.Outcome, _ details: [(String, JSONValue)]) -> Void

    public init(
        inventory: Inventory, progress: @escaping @Sendable (String) -> Void = { _ in }, confirm: @escaping @Sendable (String) -> Bool = { _ in false },
        interruption: Interruption = Interruption(),
        record: @escaping @Sendable (String, String, AuditLog.Entry.Outcome, [(String, JSONValue)]) -> Void = { _, _, _, _ in }
    ) {
        self.inventory = inventory
        self.progress = progress
        self.confirm = confirm
        self.interruption = interruption
        self.record = record
    }
}
