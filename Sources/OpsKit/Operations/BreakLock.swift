import Foundation

/// Removes the operations lock of a holder that stopped proving it is alive (a crashed or hung
/// command). It takes no lock itself: it is the way out when the lock is stuck.
public struct BreakLock: OpsOperation {
    public let backend: LockBackend
    /// Break it even though the holder's heartbeat is recent.
    public let force: Bool

    public init(backend: LockBackend, force: Bool) {
        self.backend = backend
        self.force = force
    }

    public var command: String { "lock" }
    public var action: String { "break" }
    public var target: String { backend.description }
    public var takesLock: Bool { false }

    /// Why `holder` counts as alive (refused unless `force`), or nil. A holder on this host is
    /// judged by its process: gone (killed, crashed) is dead whatever its last heartbeat said.
    /// Elsewhere, a heartbeat younger than two intervals is alive.
    func liveHolder(_ holder: LockHolder, now: Date = Date()) -> String? {
        if holder.host == ProcessInfo.processInfo.hostName, holder.pid > 0, !HolderProcess.runs(pid: holder.pid) { return nil }
        guard let interval = backend.heartbeatInterval, let heartbeat = holder.heartbeatAt else { return nil }
        let age = now.timeIntervalSince(heartbeat)
        return age < 2 * interval.seconds ? "heartbeat \(DisplayFormat.age(age)) ago" : nil
    }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        guard let holder = try await backend.current() else { return OperationPlan(steps: []) }
        if let alive = liveHolder(holder), !force {
            throw OperationFailure.refused("the holder is alive: \(holder.describe()), \(alive); --force breaks it anyway")
        }
        return OperationPlan(
            steps: ["remove the lock held by \(holder.describe()) [\(backend.description)]"],
            confirmation: "Break the lock held by \(holder.describe())? If it is still working, two operations may overlap.")
    }

    /// The lock is free.
    public func check(in context: OperationContext) async throws -> Bool { try await backend.current() == nil }

    public func run(in context: OperationContext) async throws -> LockHolder? {
        guard let holder = try await backend.current() else { return nil }
        try await backend.breakLock(holder)
        return holder
    }

    public func audit(_ holder: LockHolder?) -> OperationRecord {
        OperationRecord(outcome: .succeeded, details: [("holder", holder.map { .string($0.describe()) } ?? .null)])
    }
}

/// Whether a lock holder's process still runs on this host. A pid reused since is taken for the
/// holder: its heartbeat then decides.
enum HolderProcess {
    static func runs(pid: Int) -> Bool { kill(pid_t(pid), 0) == 0 || errno == EPERM }
}
