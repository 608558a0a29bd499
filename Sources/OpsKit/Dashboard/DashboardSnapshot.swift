import Foundation

/// Everything one frame of the dashboard (or one `top` snapshot) shows, computed from the model.
/// A value that could not be measured is nil, shown as "-" and null: never a made-up zero.
public struct DashboardSnapshot: Sendable {
    public var deployment: String
    /// Unix time, seconds.
    public var at: Double
    /// The range rates and quantiles cover, seconds.
    public var window: Double
    public var fleet: FleetTotals
    public var instances: [InstanceRow]
    public var haproxy: HAProxyPanel?
    public var redis: RedisPanel?
    public var nats: NATSPanel?
    public var alerts: [DashboardAlert]
    public var sparklines: Sparklines

    public struct Sparklines: Sendable {
        public var connections: [Double]
        public var messagesPerSecond: [Double]
        public var p99: [Double]
    }
}

public struct FleetTotals: Sendable {
    public var instances: Int
    /// Instances whose last scrape answered.
    public var reporting: Int
    public var connections: Int?
    public var sentPerSecond: Double?
    public var receivedPerSecond: Double?
    public var blockedPerSecond: Double?
    /// Delivery latency quantiles over the window, seconds.
    public var p50: Double?
    public var p95: Double?
    public var p99: Double?
    public var matchQueue: Int?
    /// Chats with a side on each instance, added up: a chat across two instances counts twice.
    public var activeChats: Int?
    public var matchP95: Double?
}

public enum InstanceState: String, Sendable {
    case up = "UP"
    case down = "DOWN"
    case drain = "DRAIN"
    case maint = "MAINT"
    case nolb = "NOLB"
    case notReady = "NOT READY"
    /// Never answered yet.
    case waiting = "WAITING"

    /// Taken out on purpose (drain, maintenance), as opposed to failing.
    var isDeliberate: Bool { self == .drain || self == .maint || self == .nolb }
}

public struct InstanceRow: Sendable {
    public var name: String
    public var url: String
    public var state: InstanceState
    /// HAProxy's own words ("UP 1/3", "DOWN", "MAINT"), when the stats list this server.
    public var haproxyStatus: String?
    public var ready: Bool?
    public var connections: Int?
    public var messagesPerSecond: Double?
    public var p99: Double?
    public var residentBytes: Int?
    public var memoryLimitBytes: Int?
    public var uptime: Double?
    public var version: String?
    /// Why the last scrape failed, while it is failing.
    public var error: String?
    /// Seconds since a scrape started without an answer yet, when that is long.
    public var waitingFor: Double?
    var scrapeDuration: Duration?
}

public struct HAProxyPanel: Sendable {
    public var backend: String
    public var backendStatus: String?
    public var serving: Int
    public var servers: Int
    public var sessions: Int?
    public var error: String?
}

public struct RedisPanel: Sendable {
    public var usedMemory: Int?
    public var maxMemory: Int?
    public var opsPerSecond: Double?
    public var clients: Int?
    public var role: String?
    public var error: String?
}

public struct NATSPanel: Sendable {
    public var messagesInPerSecond: Double?
    public var messagesOutPerSecond: Double?
    public var slowConsumers: Int?
    public var connections: Int?
    public var error: String?
}

/// One firing row of the operations guide's alert table (docs/dashboard.md lists them).
public struct DashboardAlert: Sendable, Equatable {
    public enum Severity: String, Sendable, Comparable {
        case warning, critical

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .warning && rhs == .critical }
    }

    /// The rule's stable identifier: service_down, high_memory, match_queue_backing_up,
    /// high_latency, high_error_rate, haproxy_backend_down, redis_memory_high, connection_stall,
    /// nats_slow_consumers.
    public var rule: String
    public var severity: Severity
    /// What it fires on: an instance, "fleet", "redis".
    public var subject: String
    public var detail: String

    public init(rule: String, severity: Severity, subject: String, detail: String) {
        self.rule = rule
        self.severity = severity
        self.subject = subject
        self.detail = detail
    }
}

extension DashboardSnapshot {
    /// `top --json`: every figure, nulls for what was not measured.
    public var json: JSONValue {
        func number(_ value: Double?) -> JSONValue { value.map { $0.isFinite ? .double($0) : .null } ?? .null }
        func int(_ value: Int?) -> JSONValue { value.map(JSONValue.int) ?? .null }
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        var object: [(String, JSONValue)] = [
            ("deployment", .string(deployment)),
            ("at", .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: at)))),
            ("window_seconds", .double(window)),
            ("fleet", .object([
                ("instances", .int(fleet.instances)), ("reporting", .int(fleet.reporting)),
                ("connections", int(fleet.connections)), ("sent_per_second", number(fleet.sentPerSecond)),
                ("received_per_second", number(fleet.receivedPerSecond)), ("blocked_per_second", number(fleet.blockedPerSecond)),
                ("latency_p50_seconds", number(fleet.p50)), ("latency_p95_seconds", number(fleet.p95)),
                ("latency_p99_seconds", number(fleet.p99)), ("match_queue", int(fleet.matchQueue)),
                ("active_chats", int(fleet.activeChats)), ("match_duration_p95_seconds", number(fleet.matchP95)),
            ])),
            ("instances", .array(instances.map { row in
                .object([
                    ("name", .string(row.name)), ("state", .string(row.state.rawValue)), ("haproxy_status", text(row.haproxyStatus)),
                    ("ready", row.ready.map(JSONValue.bool) ?? .null), ("connections", int(row.connections)),
                    ("messages_per_second", number(row.messagesPerSecond)), ("latency_p99_seconds", number(row.p99)),
                    ("resident_bytes", int(row.residentBytes)), ("memory_limit_bytes", int(row.memoryLimitBytes)),
                    ("uptime_seconds", number(row.uptime)), ("version", text(row.version)), ("error", text(row.error)),
                ])
            })),
        ]
        if let haproxy {
            object.append(("haproxy", .object([
                ("backend", .string(haproxy.backend)), ("backend_status", text(haproxy.backendStatus)),
                ("serving", .int(haproxy.serving)), ("servers", .int(haproxy.servers)), ("sessions", int(haproxy.sessions)),
                ("error", text(haproxy.error)),
            ])))
        }
        if let redis {
            object.append(("redis", .object([
                ("used_memory", int(redis.usedMemory)), ("maxmemory", int(redis.maxMemory)), ("ops_per_second", number(redis.opsPerSecond)),
                ("clients", int(redis.clients)), ("role", text(redis.role)), ("error", text(redis.error)),
            ])))
        }
        if let nats {
            object.append(("nats", .object([
                ("in_msgs_per_second", number(nats.messagesInPerSecond)), ("out_msgs_per_second", number(nats.messagesOutPerSecond)),
                ("slow_consumers", int(nats.slowConsumers)), ("connections", int(nats.connections)), ("error", text(nats.error)),
            ])))
        }
        object.append(("alerts", .array(alerts.map { alert in
            .object([
                ("rule", .string(alert.rule)), ("severity", .string(alert.severity.rawValue)), ("subject", .string(alert.subject)),
                ("detail", .string(alert.detail)),
            ])
        })))
        return .object(object)
    }

    /// The worst alert: what `top --once` exits with (0 none, 1 warning, 2 critical).
    public var worstSeverity: DashboardAlert.Severity? { alerts.map(\.severity).max() }
}
