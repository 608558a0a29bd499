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
    var metricsURL: String { "http://\(host):\(port)/metrics" }
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
    /// Where the servers' own figures (RSS, CPU, rejections, disconnections) are read: every
    /// server, never a proxy in front of them, which answers /metrics from whichever backend it
    /// picks. By default the targets' own /metrics.
    public var metricsURLs: [String]

    /// Messages per second each chatting connection sends.
    public var ratePerClient: Double { chattingPairs > 0 ? Double(rate) / Double(chattingPairs * 2) : 0 }

    /// The server's default per-connection limit (MAX_MSGS_PER_10S = 200), per second.
    public static let defaultServerLimitPerClient = 20.0

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
        metricsURLs = Array(Set(targets.map(\.metricsURL))).sorted()
        self.threads = max(1, threads)
    }
}
