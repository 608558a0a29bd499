/// What the dashboard watches, taken from the inventory.
public struct DashboardTargets: Sendable {
    public var deployment: String
    public var servers: [ServerEntry]
    public var haproxyStatsURL: String?
    public var haproxyBackend: String
    /// Where drain and ready are sent; nil disables both.
    public var haproxyRuntimeAPI: String?
    public var redis: RedisAddress?
    public var natsMonitorURL: String?

    public init(
        deployment: String = "local", servers: [ServerEntry], haproxyStatsURL: String? = nil, haproxyBackend: String = Inventory.defaultBackend,
        haproxyRuntimeAPI: String? = nil, redis: RedisAddress? = nil, natsMonitorURL: String? = nil
    ) {
        self.deployment = deployment
        self.servers = servers
        self.haproxyStatsURL = haproxyStatsURL
        self.haproxyBackend = haproxyBackend
        self.haproxyRuntimeAPI = haproxyRuntimeAPI
        self.redis = redis
        self.natsMonitorURL = natsMonitorURL
    }

    /// - Throws: `OpsError` when `redis.addr` cannot be parsed.
    public init(inventory: Inventory) throws {
        self.init(
            deployment: inventory.deployment, servers: inventory.servers, haproxyStatsURL: inventory.haproxyStatsURL,
            haproxyBackend: inventory.haproxyBackend, haproxyRuntimeAPI: inventory.haproxyRuntimeAPI,
            redis: try inventory.redisAddress(), natsMonitorURL: inventory.natsMonitorURL)
    }

    /// With Redis the match queue is shared: every instance reports the same depth, so the fleet's
    /// queue is the largest report, not their sum.
    var sharesMatchQueue: Bool { redis != nil }

    public var endpoints: [DashboardEndpoint] {
        var list = servers.map { DashboardEndpoint.server($0.name) }
        if haproxyStatsURL != nil { list.append(.haproxy) }
        if redis != nil { list.append(.redis) }
        if natsMonitorURL != nil { list.append(.nats) }
        return list
    }
}

/// One thing the dashboard scrapes.
public enum DashboardEndpoint: Hashable, Sendable, CustomStringConvertible {
    case server(String)
    case haproxy
    case redis
    case nats

    public var description: String {
        switch self {
        case .server(let name): return name
        case .haproxy: return "haproxy"
        case .redis: return "redis"
        case .nats: return "nats"
        }
    }
}

/// What one scrape of one endpoint brought back.
public struct ScrapeEvent: Sendable {
    public enum Payload: Sendable {
        /// A scrape began: until its answer, the endpoint is "waiting".
        case started
        case server(ServerReading)
        case haproxy(HAProxyStats)
        case redis(info: [String: String])
        case nats(varz: JSONValue)
        case failed(String)
    }

    public var endpoint: DashboardEndpoint
    /// Unix time, seconds.
    public var at: Double
    public var elapsed: Duration?
    public var payload: Payload

    public init(endpoint: DashboardEndpoint, at: Double, elapsed: Duration? = nil, payload: Payload) {
        self.endpoint = endpoint
        self.at = at
        self.elapsed = elapsed
        self.payload = payload
    }
}

/// One whisper-server's /metrics, /ready and /health.
public struct ServerReading: Sendable {
    public var families: [MetricFamily]
    /// /ready's HTTP status; nil when /ready could not be read.
    public var readyStatus: Int?
    public var version: String?
    public var draining: Bool

    public init(families: [MetricFamily], readyStatus: Int?, version: String? = nil, draining: Bool = false) {
        self.families = families
        self.readyStatus = readyStatus
        self.version = version
        self.draining = draining
    }
}
