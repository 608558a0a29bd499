import ArgumentParser
import OpsKit

/// Every exit status whisperctl documents, by what it means. Check-like commands exit 0 ok,
/// 1 warning, 2 critical, 3 unknown (not configured, or the check could not run); mutating
/// commands 0 done, 1 refused or nothing to do, 2 failed; usage errors 64; a signal 128 + N.
enum ExitStatus: Error, Equatable {
    case ok
    case warning
    /// Not confirmed, the lock held by someone else, a failed preflight, a dirty schema.
    case refused
    case nothingToDo
    /// A load test or the demo ran and did not pass.
    case notPassed
    case critical
    case failed
    /// Not configured, or could not check.
    case unknown
    case usage
    case signal(Int32)

    var code: Int32 {
        switch self {
        case .ok: 0
        case .warning, .refused, .nothingToDo, .notPassed: 1
        case .critical, .failed: 2
        case .unknown: 3
        case .usage: 64
        case .signal(let number): 128 + number
        }
    }

    /// The status of a check-like verdict.
    init(_ health: HealthStatus) {
        switch health {
        case .ok: self = .ok
        case .warning: self = .warning
        case .critical: self = .critical
        case .unknown: self = .unknown
        }
    }

    /// How a mutating command ends when its operation did not complete.
    init(_ failure: OperationFailure) {
        switch failure {
        case .lockHeld, .refused: self = .refused
        case .interrupted(let signal, _): self = .signal(signal)
        case .lockUnavailable: self = .failed
        case .failed(let cause):
            // The operation refused to act on a state it must not touch: nothing changed.
            switch cause {
            case is MigrationDirtyError, is MigrationChecksumError, is MigrationLockHeldError: self = .refused
            default: self = .failed
            }
        }
    }
}
