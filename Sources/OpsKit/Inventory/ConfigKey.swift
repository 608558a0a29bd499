/// Every setting of `whisperctl.yml`, by its dotted path.
public enum ConfigKey: String, CaseIterable, Sendable, Comparable {
    case deployment
    case servers
    case haproxyStatsURL = "haproxy.stats_url"
    case haproxyRuntimeAPI = "haproxy.runtime_api"
    case haproxyBackend = "haproxy.backend"
    case haproxyConfig = "haproxy.config"
    /// The public WebSocket URL through HAProxy (wss://chat.example.com/ws).
    case haproxyFrontend = "haproxy.frontend"
    /// Each service's log (`logs:`): a file, journald:UNIT, docker:CONTAINER or k8s:NAMESPACE/SELECTOR.
    case haproxyLogs = "haproxy.logs"
    case redisAddr = "redis.addr"
    case redisPassword = "redis.password"
    case redisLogs = "redis.logs"
    case natsURL = "nats.url"
    case natsMonitorURL = "nats.monitor_url"
    case natsLogs = "nats.logs"
    case postgresURL = "postgres.url"
    case postgresLogs = "postgres.logs"
    case certs
    case auditLog = "audit.log"
    case lockBackend = "lock.backend"
    case migrationsDir = "migrations.dir"
    case migrationsLockTimeout = "migrations.lock_timeout"
    case backupDir = "backup.dir"
    case backupKeepDays = "backup.keep_days"
    case backupKeepLast = "backup.keep_last"
    case backupWarnAge = "backup.warn_age"
    case backupCriticalAge = "backup.critical_age"
    /// Directories of the deployment's own runbooks, besides the shipped ones.
    case runbooksDirs = "runbooks.dirs"
    /// The Prometheus configuration whose targets `scale` edits.
    case prometheusConfig = "prometheus.config"

    /// The settings that name a component of the deployment (its address): with none of them
    /// set anywhere, the local development stack's are assumed.
    public static let components: Set<ConfigKey> = [.servers, .haproxyStatsURL, .haproxyRuntimeAPI, .redisAddr, .natsURL, .natsMonitorURL, .postgresURL]

    /// Values that may carry a secret and are shown redacted.
    public var isSecret: Bool { self == .redisPassword }

    /// Values that are URLs whose password part is masked when shown.
    var mayHoldCredentials: Bool {
        [.postgresURL, .natsURL, .natsMonitorURL, .haproxyStatsURL, .haproxyFrontend, .redisAddr].contains(self) || self == .servers
    }

    public static func < (lhs: ConfigKey, rhs: ConfigKey) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The keys allowed under each section, for unknown-key errors.
    static let sections: [String: [String]] = [
        "haproxy": ["stats_url", "runtime_api", "backend", "config", "frontend", "logs"],
        "redis": ["addr", "password", "logs"],
        "nats": ["url", "monitor_url", "logs"],
        "postgres": ["url", "logs"],
        "audit": ["log"],
        "lock": ["backend"],
        "migrations": ["dir", "lock_timeout"],
        "backup": ["dir", "keep_days", "keep_last", "warn_age", "critical_age"],
        "runbooks": ["dirs"],
        "prometheus": ["config"],
    ]
    static let topLevel = ["deployment", "servers", "haproxy", "redis", "nats", "postgres", "certs", "audit", "lock", "migrations", "backup", "runbooks", "prometheus"]
}

/// One `servers:` entry: `name` is the server's name in the HAProxy backend.
public struct ServerEntry: Sendable, Equatable {
    public var name: String
    public var url: String
    public var source: ValueSource
    /// How `rollout` restarts it (`restart: {driver: ..., ...}`), when the inventory says.
    public var restart: RestartSpec?
    /// Where its log is read (`logs:`), as written.
    public var logs: String?

    /// Its /metrics, below its base URL.
    public var metricsURL: String { (url.hasSuffix("/") ? String(url.dropLast()) : url) + "/metrics" }

    public init(name: String, url: String, source: ValueSource, restart: RestartSpec? = nil, logs: String? = nil) {
        self.name = name
        self.url = url
        self.source = source
        self.restart = restart
        self.logs = logs
    }
}

/// A configuration value with its origin.
public struct ConfigValue: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        case scalar(String)
        case servers([ServerEntry])
        /// A list of strings, each with the line it came from.
        case list([(String, ValueSource)])

        public static func == (lhs: Content, rhs: Content) -> Bool {
            switch (lhs, rhs) {
            case (.scalar(let a), .scalar(let b)): return a == b
            case (.servers(let a), .servers(let b)): return a == b
            case (.list(let a), .list(let b)): return a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
            default: return false
            }
        }
    }

    public var content: Content
    public var source: ValueSource

    public init(_ content: Content, source: ValueSource) {
        self.content = content
        self.source = source
    }

    public var scalar: String? {
        if case .scalar(let s) = content { return s }
        return nil
    }
}

/// A problem found while reading or checking the configuration.
public struct ConfigDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }
    public var severity: Severity
    /// "file:line", when the problem has one.
    public var location: String?
    /// The dotted key it concerns, e.g. "redis.addr".
    public var field: String?
    public var message: String

    public init(_ severity: Severity, location: String?, field: String?, _ message: String) {
        self.severity = severity
        self.location = location
        self.field = field
        self.message = message
    }

    public var json: JSONValue {
        .object([
            ("severity", .string(severity.rawValue)), ("location", location.map(JSONValue.string) ?? .null),
            ("field", field.map(JSONValue.string) ?? .null), ("message", .string(message)),
        ])
    }

    public var description: String {
        var text = location.map { "\($0): " } ?? ""
        text += "\(severity.rawValue): "
        if let field { text += "\(field): " }
        return text + message
    }
}

/// The configuration could not be read at all (missing file named explicitly, YAML syntax error,
/// a value of the wrong shape); `whisperctl status` exits 3 on it.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [ConfigDiagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }

    public init(_ diagnostics: [ConfigDiagnostic]) { self.diagnostics = diagnostics }
}
