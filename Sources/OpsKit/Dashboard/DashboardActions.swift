/// The dashboard's mutations: an instance drained or made ready through HAProxy's runtime API,
/// each recorded in the audit log whether it worked or not.
public struct DashboardActions: Sendable {
    public let runtime: HAProxyRuntimeAPI
    public let backend: String
    public let audit: AuditLog
    /// The deployment's operations lock, taken around each action: a drain never lands in the
    /// middle of a rollout or a restore.
    public let lock: LockBackend?

    public init(runtime: HAProxyRuntimeAPI, backend: String, audit: AuditLog, lock: LockBackend? = nil) {
        self.runtime = runtime
        self.backend = backend
        self.audit = audit
        self.lock = lock
    }

    /// Performs `action` and returns the line to show the operator.
    public func perform(_ action: DashboardAction) async -> String {
        let state: String
        let server: String
        switch action {
        case .drain(let name): (state, server) = ("drain", name)
        case .makeReady(let name): (state, server) = ("ready", name)
        default: return ""
        }
        let target = "\(backend)/\(server)"
        var outcome: AuditLog.Entry.Outcome = .succeeded
        var line: String
        var held: HeldLock?
        do {
            if let lock { held = try await OperationsLock.acquire(lock, command: "dashboard \(state) \(server)") }
            try await runtime.setState(state, server: server, backend: backend)
            line = "\(server): HAProxy set to \(state.uppercased()) (\(target))"
        } catch let failure as OperationsLock.Failure {
            outcome = .refused("\(failure)")
            line = "\(server): \(state) not sent: \(failure)"
        } catch {
            outcome = .failed("\(error)")
            line = "\(server): \(state) failed: \(error)"
        }
        await held?.release()
        do {
            try audit.record(AuditLog.Entry(
                command: "dashboard", action: state, target: target, outcome: outcome,
                details: [("runtime_api", .string(runtime.address.description))]))
        } catch {
            line += "; NOT in the audit log: \(error)"
        }
        return line
    }
}
