/// Why the runner did not complete an operation, for callers to switch on (whisperctl maps each
/// to its exit status; a runbook decides whether to retry).
public enum OperationFailure: Error, Sendable, CustomStringConvertible {
    /// Someone else holds the operations lock.
    case lockHeld(by: LockHolder, backend: String)
    /// The lock's home (Redis, PostgreSQL, the lock file) could not be reached or chosen.
    case lockUnavailable(backend: String, cause: any Error & Sendable)
    /// The operator (or the operation's own preconditions) said no: nothing changed.
    case refused(String)
    /// A signal stopped the run at a safe point.
    case interrupted(signal: Int32, cause: (any Error & Sendable)?)
    /// The run threw.
    case failed(any Error & Sendable)

    public var description: String {
        switch self {
        case .lockHeld(let holder, let backend):
            return "the operations lock is held by \(holder.describe()) [\(backend)]; wait with --wait DURATION, or see 'whisperctl lock status'"
        case .lockUnavailable(let backend, let cause):
            return "cannot take the operations lock (\(backend)): \(cause)"
        case .refused(let reason):
            return "refused: \(reason)"
        case .interrupted(let signal, let cause):
            return "interrupted by signal \(signal)" + (cause.map { ": \($0)" } ?? "")
        case .failed(let cause):
            return "\(cause)"
        }
    }

    /// The error underneath, for callers that look for a domain error (a dirty migration).
    public var cause: (any Error)? {
        switch self {
        case .lockUnavailable(_, let cause): return cause
        case .interrupted(_, let cause): return cause
        case .failed(let cause): return cause
        case .lockHeld, .refused: return nil
        }
    }
}
