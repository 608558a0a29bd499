import Foundation

/// One server (or load balancer) the load test connects to.
public struct LoadTarget: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var path: String

    public init(url: String) throws {
        guard let components = URLComponents(string: url), components.scheme == "ws", let host = components.host else {
            throw OpsError(.invalidInput, "--url must be ws://HOST:PORT/PATH, got '\(Redactor.redactURL(url))'")
        }
        self.host = host
        self.port = components.port ?? 80
        self.path = components.path.isEmpty ? "/ws" : components.path
    }

    /// The server's /metrics, on the same host and port.
    public var metricsURL: String { "http://\(host):\(port)/metrics" }
}

/// What `whisperctl loadtest` does: how many connections, how many of them chat, how fast.
public struct LoadTestPlan: Sendable {
    /// Clients take the targets in turn, so with two the partners of every pair sit on different
    /// servers. A client that is dropped or drained resumes on the next target.
    public var targets: [LoadTarget]
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
        urls: [String], connections: Int, chattingPairs: Int, rate: Int, duration: Duration, ramp: Duration, threads: Int = 1
    ) throws {
        guard !urls.isEmpty else { throw OpsError(.invalidInput, "--url is needed") }
        targets = try urls.map(LoadTarget.init(url:))
        guard connections > 0 else { throw OpsError(.invalidInput, "--connections must be at least 1") }
        guard chattingPairs >= 0, chattingPairs * 2 <= connections else {
            throw OpsError(.invalidInput, "--chatting-pairs needs 2 connections each: at most \(connections / 2)")
        }
        guard rate >= 0 else { throw OpsError(.invalidInput, "--rate must not be negative") }
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
    /// Messages from partners the load client did not write (real users matched by fallback).
    public var foreign = 0
    public var resumed = 0
    /// Clients whose session could not be resumed after their connection ended.
    public var resumeFailures = 0
    public var latencyMicroseconds: (p50: UInt64, p95: UInt64, p99: UInt64, max: UInt64) = (0, 0, 0, 0)
    /// Server RSS growth per connection during the ramp, read from its /metrics.
    public var serverBytesPerConnection: Double?
    /// Server CPU seconds spent while messages flowed, per 10,000 messages.
    public var serverCPUPer10kMessages: Double?
    public var elapsed: Duration = .zero
    /// Messages per second the generator actually sent.
    public var achievedRate = 0.0

    public var lost: Int { max(0, sent - delivered) }
    /// Lost, duplicated or reordered messages, or a session that could not be resumed, fail the run.
    public var passed: Bool { lost == 0 && duplicated == 0 && outOfOrder == 0 && resumeFailures == 0 }

    public var json: JSONValue {
        func ms(_ micros: UInt64) -> JSONValue { .double((Double(micros) / 10).rounded() / 100) }
        return .object([
            ("connections", .int(connections)), ("connect_errors", .int(connectErrors)),
            ("connect_rate_per_s", .double(connectRate.rounded())), ("sent", .int(sent)), ("achieved_rate_per_s", .double(achievedRate.rounded())), ("delivered", .int(delivered)),
            ("lost", .int(lost)), ("duplicated", .int(duplicated)), ("out_of_order", .int(outOfOrder)), ("foreign", .int(foreign)),
            ("resumed", .int(resumed)), ("resume_failures", .int(resumeFailures)),
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
