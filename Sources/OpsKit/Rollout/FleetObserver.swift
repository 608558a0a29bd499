import Foundation

/// What `rollout` knows of one server at a moment: its own /health and /ready, and HAProxy's view.
public struct ServerObservation: Sendable {
    public var name: String
    public var reachable: Bool
    public var health: String?
    public var ready: Bool
    public var connections: Int?
    public var maxConnections: Int?
    public var version: String?
    public var draining: Bool
    public var haproxyState: HAProxyServerState?
    /// The name the server reports (its SERVER_NAME), and the address HAProxy has for its name.
    public var reportedName: String?
    public var haproxyAddress: String?
    var haproxySessions: Int?
    var haproxyLimit: Int?

    /// Serving: HAProxy sends it users and it takes them. "UP 1/3" (a check failed, not yet
    /// enough to take it out) still gets traffic: a slow check under load is not an outage.
    public var isServing: Bool { reachable && ready && (haproxyState == .up || haproxyState == .goingDown) }
    /// How many more connections it can take: the lower of its own and HAProxy's limit.
    public var headroom: Int? {
        let limits = [maxConnections, haproxyLimit.flatMap { $0 > 0 ? $0 : nil }].compactMap { $0 }
        guard let limit = limits.min() else { return nil }
        return max(0, limit - max(connections ?? 0, haproxySessions ?? 0))
    }
}

/// Reads the fleet: every server's /health and /ready, and `show stat` on HAProxy's runtime API.
public struct FleetObserver: Sendable {
    public var servers: [ServerEntry]
    public var runtime: HAProxyRuntimeAPI
    public var backend: String
    public var http = HTTPClient()
    public var timeout: Duration = .seconds(2)

    public init(servers: [ServerEntry], runtime: HAProxyRuntimeAPI, backend: String) {
        self.servers = servers
        self.runtime = runtime
        self.backend = backend
    }

    func haproxyRows() async throws -> [String: HAProxyStats.Row] {
        let stats = try HAProxyStats(csv: try await runtime.execute("show stat"))
        guard stats.backendRow(backend) != nil else {
            throw OpsError(.invalidInput, "HAProxy has no backend '\(backend)' (haproxy.backend); it has \(stats.backendNames.joined(separator: ", "))", endpoint: "haproxy runtime API \(runtime.address)")
        }
        return Dictionary(stats.servers(ofBackend: backend).map { ($0.service, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func observe(_ entry: ServerEntry, rows: [String: HAProxyStats.Row]?) async -> ServerObservation {
        let base = entry.url.hasSuffix("/") ? String(entry.url.dropLast()) : entry.url
        async let healthAnswer = try? http.get(base + "/health", timeout: timeout)
        async let readyAnswer = try? http.get(base + "/ready", timeout: timeout)
        let (health, ready) = await (healthAnswer, readyAnswer)
        let body = health.flatMap { try? JSONValue.parse($0.body) }
        let row = rows?[entry.name]
        return ServerObservation(
            name: entry.name, reachable: health != nil, health: body?["status"]?.stringValue, ready: ready?.status == 200,
            connections: body?["connections"]?.intValue, maxConnections: body?["max_connections"]?.intValue,
            version: body?["version"]?.stringValue, draining: body?["draining"]?.boolValue ?? false,
            haproxyState: row.map { HAProxyServerState(haproxyStatus: $0.status) }, reportedName: body?["server"]?.stringValue,
            haproxyAddress: row?.fields["addr"], haproxySessions: row?.currentSessions,
            haproxyLimit: row?.fields["slim"].flatMap { Int($0) })
    }

    /// Every server, concurrently, against one `show stat`.
    func observeAll() async throws -> [ServerObservation] {
        let rows = try await haproxyRows()
        return await withTaskGroup(of: (Int, ServerObservation).self) { group in
            for (index, entry) in servers.enumerated() {
                group.addTask { (index, await observe(entry, rows: rows)) }
            }
            var results: [(Int, ServerObservation)] = []
            for await item in group { results.append(item) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// The server's /metrics, parsed.
    public func metrics(_ entry: ServerEntry) async throws -> [MetricFamily] {
        try await Self.metrics(of: entry, http: http, timeout: timeout)
    }

    /// A server's /metrics, parsed; an error names the server's URL.
    public static func metrics(of entry: ServerEntry, http: HTTPClient, timeout: Duration) async throws -> [MetricFamily] {
        let base = entry.url.hasSuffix("/") ? String(entry.url.dropLast()) : entry.url
        let response = try await http.get(base + "/metrics", timeout: timeout)
        guard response.isSuccess else { throw OpsError(.serverError, "/metrics answered HTTP \(response.status)", endpoint: base) }
        do {
            return try PrometheusTextParser.parse(response.body)
        } catch {
            throw OpsError(.protocolError, "/metrics: \(error)", endpoint: base)
        }
    }
}
