/// The dashboard's state, as a value: the last reading of every endpoint and the history that
/// rates, quantiles and sparklines need. Scrape events go in (`apply`), a snapshot comes out;
/// nothing here touches the network or a terminal, so tests drive it directly.
public struct DashboardModel: Sendable {
    public let targets: DashboardTargets
    /// Rates and quantiles cover this many seconds (Prometheus' range, `[10s]`).
    public var window: Double

    var statuses: [DashboardEndpoint: EndpointStatus] = [:]
    var instances: [String: InstanceTrack] = [:]
    var haproxyStats: HAProxyStats?
    var redisInfo: [String: String]?
    var redisCommands: SeriesHistory
    var natsVarz: JSONValue?
    var natsIn: SeriesHistory
    var natsOut: SeriesHistory
    /// Fleet figures sampled at each tick: sparklines and the "growing" and "stalled" alerts.
    var fleetConnections: SeriesHistory
    var fleetMessages: SeriesHistory
    var fleetP99: SeriesHistory
    var fleetQueue: SeriesHistory

    public init(targets: DashboardTargets, window: Double = 10, history: Int = 120) {
        self.targets = targets
        self.window = window
        redisCommands = SeriesHistory(capacity: history)
        natsIn = SeriesHistory(capacity: history)
        natsOut = SeriesHistory(capacity: history)
        fleetConnections = SeriesHistory(capacity: history)
        fleetMessages = SeriesHistory(capacity: history)
        fleetP99 = SeriesHistory(capacity: history)
        fleetQueue = SeriesHistory(capacity: history)
        for server in targets.servers { instances[server.name] = InstanceTrack(history: history) }
    }

    /// The latest metric families of an instance: the detail view.
    public func families(of instance: String) -> [MetricFamily] { instances[instance]?.reading?.families ?? [] }

    public func status(of endpoint: DashboardEndpoint) -> EndpointStatus { statuses[endpoint] ?? EndpointStatus() }

    public mutating func apply(_ event: ScrapeEvent) {
        var status = statuses[event.endpoint] ?? EndpointStatus()
        defer { statuses[event.endpoint] = status }
        switch event.payload {
        case .started:
            status.waitingSince = status.waitingSince ?? event.at
            return
        case .failed(let reason):
            status.waitingSince = nil
            status.lastFailure = (event.at, reason)
            status.lastElapsed = event.elapsed
            return
        default:
            status.waitingSince = nil
            status.lastSuccess = event.at
            status.lastFailure = nil
            status.lastElapsed = event.elapsed
        }
        switch event.payload {
        case .server(let reading):
            guard case .server(let name) = event.endpoint else { return }
            instances[name, default: InstanceTrack(history: fleetConnections.capacity)].record(reading, at: event.at)
        case .haproxy(let stats):
            haproxyStats = stats
        case .redis(let info):
            redisInfo = info
            if let commands = info["total_commands_processed"].flatMap(Double.init) { redisCommands.append(at: event.at, commands) }
        case .nats(let varz):
            natsVarz = varz
            if let value = varz["in_msgs"]?.doubleValue { natsIn.append(at: event.at, value) }
            if let value = varz["out_msgs"]?.doubleValue { natsOut.append(at: event.at, value) }
        case .started, .failed:
            break
        }
    }

    /// Samples the fleet's figures into the sparklines; call once per refresh interval.
    public mutating func tick(at now: Double) {
        let fleet = fleetTotals(at: now)
        if let connections = fleet.connections { fleetConnections.append(at: now, Double(connections)) }
        if let received = fleet.receivedPerSecond { fleetMessages.append(at: now, received) }
        fleetP99.append(at: now, fleet.p99 ?? .nan)
        if let queue = fleet.matchQueue { fleetQueue.append(at: now, Double(queue)) }
    }

    public func snapshot(at now: Double) -> DashboardSnapshot {
        let rows = targets.servers.map { instanceRow($0, at: now) }
        var snapshot = DashboardSnapshot(
            deployment: targets.deployment, at: now, window: window, fleet: fleetTotals(at: now), instances: rows,
            haproxy: haproxyPanel(), redis: redisPanel(), nats: natsPanel(), alerts: [],
            sparklines: .init(connections: fleetConnections.values, messagesPerSecond: fleetMessages.values, p99: fleetP99.values))
        snapshot.alerts = AlertRules(model: self).evaluate(snapshot)
        return snapshot
    }

    // MARK: - Fleet

    func isReporting(_ name: String) -> Bool {
        let status = status(of: .server(name))
        return status.lastSuccess != nil && status.lastFailure == nil
    }

    func fleetTotals(at now: Double) -> FleetTotals {
        let live = targets.servers.map(\.name).filter(isReporting).compactMap { instances[$0] }
        func total(_ values: [Double?]) -> Double? {
            let known = values.compactMap { $0 }
            return known.isEmpty ? nil : known.reduce(0, +)
        }
        let latencies = live.compactMap { $0.latency.delta(window: window) }
        let matches = live.compactMap { $0.matchDuration.delta(window: window) }
        func quantile(_ q: Double, _ deltas: [[(le: Double, count: Double)]]) -> Double? {
            guard !deltas.isEmpty else { return nil }
            let value = MetricMath.histogramQuantile(q, buckets: Self.add(deltas))
            return value.isNaN ? nil : value
        }
        let queues = live.compactMap { $0.latest?.matchQueue }
        let queue: Double? = queues.isEmpty ? nil : (targets.sharesMatchQueue ? queues.max() : queues.reduce(0, +))
        return FleetTotals(
            instances: targets.servers.count, reporting: live.count,
            connections: total(live.map { $0.latest?.connections })?.wholeNumber,
            sentPerSecond: total(live.map { $0.rate("sent", window: window) }),
            receivedPerSecond: total(live.map { $0.rate("received", window: window) }),
            blockedPerSecond: total(live.map { $0.rate("blocked", window: window) }),
            p50: quantile(0.5, latencies), p95: quantile(0.95, latencies), p99: quantile(0.99, latencies),
            matchQueue: queue?.wholeNumber, activeChats: total(live.map { $0.latest?.activeChats })?.wholeNumber,
            matchP95: quantile(0.95, matches))
    }

    /// Bucket counts of several instances added up by bound.
    static func add(_ sets: [[(le: Double, count: Double)]]) -> [(le: Double, count: Double)] {
        var byBound: [Double: Double] = [:]
        for set in sets { for bucket in set { byBound[bucket.le, default: 0] += bucket.count } }
        return byBound.map { ($0.key, $0.value) }
    }

    // MARK: - Instances

    /// The HAProxy row of a server: the inventory's name is its name in the backend.
    func haproxyRow(_ name: String) -> HAProxyStats.Row? {
        haproxyStats?.servers(ofBackend: targets.haproxyBackend).first { $0.service == name }
    }

    func instanceRow(_ entry: ServerEntry, at now: Double) -> InstanceRow {
        let track = instances[entry.name]
        let status = status(of: .server(entry.name))
        let latest = track?.latest
        let reading = track?.reading
        let haproxy = haproxyRow(entry.name)
        // A server that does not answer has no current figures: the last ones it gave are not shown as if they were.
        guard status.lastFailure == nil else {
            var row = InstanceRow(
                name: entry.name, url: Redactor.redactURL(entry.url), state: .down, haproxyStatus: haproxy?.status, ready: nil, connections: nil,
                messagesPerSecond: nil, p99: nil, residentBytes: nil, memoryLimitBytes: nil, uptime: nil, version: reading?.version,
                error: status.lastFailure?.reason, waitingFor: status.waitingSince.map { now - $0 }.flatMap { $0 >= 1 ? $0 : nil },
                scrapeDuration: status.lastElapsed)
            row.state = state(status: status, reading: reading, haproxy: haproxy)
            return row
        }
        var row = InstanceRow(
            name: entry.name, url: Redactor.redactURL(entry.url), state: .up, haproxyStatus: haproxy?.status,
            ready: reading?.readyStatus.map { $0 == 200 }, connections: latest?.connections?.wholeNumber,
            messagesPerSecond: track?.rate("received", window: window),
            p99: track?.latency.delta(window: window).flatMap { buckets in
                let value = MetricMath.histogramQuantile(0.99, buckets: buckets)
                return value.isNaN ? nil : value
            },
            residentBytes: latest?.residentBytes?.wholeNumber, memoryLimitBytes: latest?.memoryLimitBytes?.wholeNumber,
            uptime: latest?.startTime.map { max(0, now - $0) }, version: reading?.version, error: status.lastFailure?.reason,
            waitingFor: status.waitingSince.map { now - $0 }.flatMap { $0 >= 1 ? $0 : nil }, scrapeDuration: status.lastElapsed)
        row.state = state(status: status, reading: reading, haproxy: haproxy)
        return row
    }

    /// HAProxy's word wins for what it decides (MAINT, DRAIN, DOWN); then the server's own /ready.
    func state(status: EndpointStatus, reading: ServerReading?, haproxy: HAProxyStats.Row?) -> InstanceState {
        if status.lastFailure != nil { return .down }
        guard status.lastSuccess != nil else { return .waiting }
        if let haproxy {
            switch HAProxyServerState(haproxyStatus: haproxy.status) {
            case .maint: return .maint
            case .drain: return .drain
            case .nolb: return .nolb
            case .down, .goingUp: return .down
            case .up, .goingDown, .noCheck, .other: break
            }
        }
        if let ready = reading?.readyStatus, ready != 200 { return reading?.draining == true ? .drain : .notReady }
        return .up
    }

    // MARK: - Services

    func haproxyPanel() -> HAProxyPanel? {
        guard targets.haproxyStatsURL != nil else { return nil }
        let status = status(of: .haproxy)
        let servers = haproxyStats?.servers(ofBackend: targets.haproxyBackend) ?? []
        let serving = servers.filter { HAProxyServerState(haproxyStatus: $0.status).servesNewConnections }.count
        var error = status.lastFailure?.reason
        if error == nil, let stats = haproxyStats, stats.backendRow(targets.haproxyBackend) == nil, servers.isEmpty {
            error = "backend '\(targets.haproxyBackend)' not found"
        }
        return HAProxyPanel(
            backend: targets.haproxyBackend, backendStatus: haproxyStats?.backendRow(targets.haproxyBackend)?.status, serving: serving,
            servers: servers.count, sessions: haproxyStats?.backendRow(targets.haproxyBackend)?.currentSessions, error: error)
    }

    func redisPanel() -> RedisPanel? {
        guard targets.redis != nil else { return nil }
        let info = redisInfo
        return RedisPanel(
            usedMemory: info?["used_memory"].flatMap { Int($0) }, maxMemory: info?["maxmemory"].flatMap { Int($0) },
            opsPerSecond: redisCommands.rate(window: window) ?? info?["instantaneous_ops_per_sec"].flatMap(Double.init),
            clients: info?["connected_clients"].flatMap { Int($0) }, role: info?["role"], error: status(of: .redis).lastFailure?.reason)
    }

    func natsPanel() -> NATSPanel? {
        guard targets.natsMonitorURL != nil else { return nil }
        return NATSPanel(
            messagesInPerSecond: natsIn.rate(window: window), messagesOutPerSecond: natsOut.rate(window: window),
            slowConsumers: natsVarz?["slow_consumers"]?.intValue, connections: natsVarz?["connections"]?.intValue,
            error: status(of: .nats).lastFailure?.reason)
    }
}

/// How an endpoint's scrapes have gone.
public struct EndpointStatus: Sendable {
    var lastSuccess: Double?
    /// Set while the latest scrape failed.
    var lastFailure: (at: Double, reason: String)?
    /// A scrape is in flight since then.
    var waitingSince: Double?
    var lastElapsed: Duration?

    public init() {}
}

/// One instance's readings over time.
struct InstanceTrack: Sendable {
    var reading: ServerReading?
    var latest: InstanceSample?
    var counters: [String: SeriesHistory] = [:]
    var latency: BucketHistory
    var matchDuration: BucketHistory
    let history: Int

    init(history: Int) {
        self.history = history
        latency = BucketHistory(capacity: history)
        matchDuration = BucketHistory(capacity: history)
    }

    mutating func record(_ reading: ServerReading, at time: Double) {
        let sample = InstanceSample(families: reading.families)
        // A new process (restarted): its rates and latencies start with it, not with the old one's.
        if let before = latest?.startTime, let now = sample.startTime, before != now {
            counters = [:]
            latency = BucketHistory(capacity: history)
            matchDuration = BucketHistory(capacity: history)
        }
        self.reading = reading
        latest = sample
        for (type, value) in sample.messages { counters[type, default: SeriesHistory(capacity: history)].append(at: time, value) }
        if let rejected = sample.rejected { counters["rejected", default: SeriesHistory(capacity: history)].append(at: time, rejected) }
        latency.append(at: time, sample.latencyBuckets)
        matchDuration.append(at: time, sample.matchBuckets)
    }

    func rate(_ counter: String, window: Double) -> Double? { counters[counter]?.rate(window: window) }
}
