/// A check's verdict, in the monitoring-plugin convention (Nagios, Icinga, Sensu).
public enum HealthStatus: String, Sendable, CaseIterable {
    case ok, warning, critical, unknown

    /// 0 ok, 1 warning, 2 critical, 3 unknown.
    public var exitCode: Int32 {
        switch self {
        case .ok: return 0
        case .warning: return 1
        case .critical: return 2
        case .unknown: return 3
        }
    }

    /// How bad it is when several are combined: critical > unknown > warning > ok.
    /// Unknown outranks warning because a check that could not run may hide anything.
    var severity: Int {
        switch self {
        case .ok: return 0
        case .warning: return 1
        case .unknown: return 2
        case .critical: return 3
        }
    }

    /// The worst of `statuses`; ok when empty.
    public static func worst<S: Sequence>(_ statuses: S) -> HealthStatus where S.Element == HealthStatus {
        statuses.max { $0.severity < $1.severity } ?? .ok
    }
}

/// What one component is, for `--json` consumers that group by it.
public enum ComponentKind: String, Sendable, CaseIterable {
    case server, haproxy, redis, nats, postgres, cert, backup, migrations
}

/// The outcome of probing one component.
public struct ComponentReport: Sendable {
    public var name: String
    public var kind: ComponentKind
    public var status: HealthStatus
    /// One line for the table: what is wrong, or the key facts when nothing is.
    public var detail: String
    /// The probe's round trip (PING for Redis, /health for servers), when it got that far.
    public var latency: Duration?
    /// Where it was probed, credentials masked.
    public var endpoint: String?
    /// Kind-specific facts for `--json`, in schema order.
    public var facts: [(String, JSONValue)]

    public init(
        name: String, kind: ComponentKind, status: HealthStatus, detail: String, latency: Duration? = nil,
        endpoint: String? = nil, facts: [(String, JSONValue)] = []
    ) {
        self.name = name
        self.kind = kind
        self.status = status
        self.detail = detail
        self.latency = latency
        self.endpoint = endpoint.map(Redactor.redactURL)
        self.facts = facts
    }

    /// A report for a probe that failed with `error`.
    public static func failed(
        name: String, kind: ComponentKind, endpoint: String?, error: Error, latency: Duration? = nil
    ) -> ComponentReport {
        let status: HealthStatus
        if let ops = error as? OpsError, ops.code == .invalidInput { status = .unknown } else { status = .critical }
        return ComponentReport(
            name: name, kind: kind, status: status, detail: Redactor.redactURL(describe(error)), latency: latency,
            endpoint: endpoint)
    }

    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("name", .string(name)), ("kind", .string(kind.rawValue)), ("status", .string(status.rawValue)),
            ("detail", .string(detail)),
            ("latency_ms", latency.map { .double(($0.seconds * 1000 * 100).rounded() / 100) } ?? .null),
        ]
        if let endpoint { pairs.append(("endpoint", .string(endpoint))) }
        return .object(pairs + facts)
    }
}

/// Renders any error as one line for a table.
func describe(_ error: Error) -> String {
    switch error {
    case let error as OpsError: return error.description
    case let error as PostgresError: return error.description
    case let error as CustomStringConvertible: return error.description
    default: return String(describing: error)
    }
}
