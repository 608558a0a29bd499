import NIOConcurrencyHelpers

/// The dashboard's mutations: an instance drained or made ready through HAProxy's runtime API,
/// each run through the operations runner (the lock, the audit log whether it worked or not).
public struct DashboardActions: Sendable {
    public let runtime: HAProxyRuntimeAPI
    public let backend: String
    /// The dashboard asked already (y/N on screen): the runner does not ask again.
    public let runner: OperationRunner

    public init(runtime: HAProxyRuntimeAPI, backend: String, runner: OperationRunner) {
        self.runtime = runtime
        self.backend = backend
        self.runner = runner
    }

    /// Performs `action` and returns the line to show the operator.
    public func perform(_ action: DashboardAction) async -> String {
        let state: SetServerState.State
        let server: String
        switch action {
        case .drain(let name): (state, server) = (.drain, name)
        case .makeReady(let name): (state, server) = (.ready, name)
        default: return ""
        }
        let operation = SetServerState(runtime: runtime, backend: backend, server: server, state: state)
        // An audit line that could not be written is said on the screen, with the result.
        let unlogged = NIOLockedValueBox<[String]>([])
        var runner = self.runner
        runner.auditFailed = { error in unlogged.withLockedValue { $0.append("\(error)") } }
        var line: String
        do {
            try await runner.run(operation, confirmed: true)
            line = "\(server): HAProxy set to \(state.rawValue.uppercased()) (\(operation.target))"
        } catch {
            switch error {
            case .lockHeld, .refused: line = "\(server): \(state.rawValue) not sent: \(error)"
            default: line = "\(server): \(state.rawValue) failed: \(error)"
            }
        }
        if let problem = unlogged.withLockedValue({ $0.first }) { line += "; NOT in the audit log: \(problem)" }
        return line
    }
}
