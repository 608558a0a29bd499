import Foundation

/// What `whisperctl loadtest` does: how many connections, how many of them chat, how fast.
public struct LoadTestPlan: Sendable {
    public var host: String
    public var port: Int
    public var path: String
    /// Connections to open; those not chatting stay idle.
    public var connections: Int
    /// Pairs that chat: 2 × this many connections send and receive.
    public var chattingPairs: Int
    /// Messages per second across all chatting connections.
    public var rate: Int
    /// How long the messages flow.
    public var duration: Duration
    /// Connections are opened evenly over this long.
    public var ramp: Duration
    /// Event loop threads of the generator.
    public var threads: Int

    public init(
        url: String, connections: Int, chattingPairs: Int, rate: Int, duration: Duration, ramp: Duration, threads: Int = 1
    ) throws {
        guard let components = URLComponents(string: url), components.scheme == "ws", let host = components.host else {
            throw OpsError(.invalidInput, "--url must be ws://HOST:PORT/PATH, got '\(Redactor.redactURL(url))'")
        }
        guard connections > 0 else { throw OpsError(.invalidInput, "--connections must be at least 1") }
        guard chattingPairs >= 0, chattingPairs * 2 <= connections else {
            throw OpsError(.invalidInput, "--chatting-pairs needs 2 connections each: at most \(connections / 2)")
        }
        guard rate >= 0 else { throw OpsError(.invalidInput, "--rate must not be negative") }
        self.host = host
        self.port = components.port ?? 80
        self.path = components.path.isEmpty ? "/ws" : components.path
        self.connections = connections
        self.chattingPairs = chattingPairs
        self.rate = rate
        self.duration = duration
        self.ramp = ramp
        self.threads = max(1, threads)
    }
}

/// What a load test measured.
public struct LoadTestReport: Sendable {
    public var connections = 0
    public var connectErrors = 0
    public var connectRate = 0.0
    public var sent = 0
    public var delivered = 0
    public var duplicated = 0
    public var outOfOrder = 0
    public var resumed = 0
    public var latencyMicroseconds: (p50: UInt64, p95: UInt64, p99: UInt64, max: UInt64) = (0, 0, 0, 0)
    /// Server RSS growth per connection during the ramp, read from its /metrics.
    public var serverBytesPerConnection: Double?
    /// Server CPU seconds spent while messages flowed, per 10,000 messages.
    public var serverCPUPer10kMessages: Double?
    public var elapsed: Duration = .zero
    /// Messages per second the generator actually sent.
    public var achievedRate = 0.0

    public var lost: Int { max(0, sent - delivered) }
    /// Lost or duplicated messages fail the run.
    public var passed: Bool { lost == 0 && duplicated == 0 }

    public var json: JSONValue {
        func ms(_ micros: UInt64) -> JSONValue { .double((Double(micros) / 10).rounded() / 100) }
        return .object([
            ("connections", .int(connections)), ("connect_errors", .int(connectErrors)),
            ("connect_rate_per_s", .double(connectRate.rounded())), ("sent", .int(sent)), ("achieved_rate_per_s", .double(achievedRate.rounded())), ("delivered", .int(delivered)),
            ("lost", .int(lost)), ("duplicated", .int(duplicated)), ("out_of_order", .int(outOfOrder)),
            ("resumed", .int(resumed)),
            ("latency_ms", .object([
                ("p50", ms(latencyMicroseconds.p50)), ("p95", ms(latencyMicroseconds.p95)),
                ("p99", ms(latencyMicroseconds.p99)), ("max", ms(latencyMicroseconds.max)),
            ])),
            ("server_bytes_per_connection", serverBytesPerConnection.map { .double($0.rounded()) } ?? .null),
            ("server_cpu_seconds_per_10k_messages", serverCPUPer10kMessages.map { .double(($0 * 1000).rounded() / 1000) } ?? .null),
            ("passed", .bool(passed)),
        ])
    }
}
