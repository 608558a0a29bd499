/// One backend server put in DRAIN, READY or MAINT through HAProxy's runtime API (the
/// dashboard's d and r keys).
public struct SetServerState: OpsOperation {
    public enum State: String, Sendable {
        case drain, ready, maint
    }

    public let runtime: HAProxyRuntimeAPI
    public let backend: String
    public let server: String
    public let state: State

    public init(runtime: HAProxyRuntimeAPI, backend: String, server: String, state: State) {
        self.runtime = runtime
        self.backend = backend
        self.server = server
        self.state = state
    }

    public var command: String { "dashboard" }
    public var action: String { state.rawValue }
    public var target: String { "\(backend)/\(server)" }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        OperationPlan(steps: ["set server \(backend)/\(server) state \(state.rawValue) (HAProxy runtime API \(runtime.address))"])
    }

    /// HAProxy's stats show the server in that state already.
    public func check(in context: OperationContext) async throws -> Bool {
        let stats = try HAProxyStats(csv: try await runtime.execute("show stat"))
        guard let row = stats.servers(ofBackend: backend).first(where: { $0.service == server }) else {
            throw OpsError(.invalidInput, "HAProxy has no server \(backend)/\(server)", endpoint: "haproxy runtime API \(runtime.address)")
        }
        let current = HAProxyServerState(haproxyStatus: row.status)
        switch state {
        case .drain: return current == .drain
        case .maint: return current == .maint
        case .ready: return current != .drain && current != .maint
        }
    }

    public func run(in context: OperationContext) async throws {
        try await runtime.setState(state.rawValue, server: server, backend: backend)
    }

    public func audit(_ outcome: Void) -> OperationRecord {
        OperationRecord(outcome: .succeeded, details: [("runtime_api", .string(runtime.address.description))])
    }
}
