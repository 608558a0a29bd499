import Foundation

/// The operations guide's alert table (§6.4), evaluated on live numbers. The Go runtime's rows
/// (goroutines, GC) have no counterpart in a Swift server; NATS slow consumers are added.
struct AlertRules {
    /// Fractions and counts from the guide.
    static let memoryRatio = 0.8
    static let queueDepth = 10_000
    static let latency = 0.5
    static let blockedRatio = 0.05
    static let redisMemoryRatio = 0.8

    let model: DashboardModel

    func evaluate(_ snapshot: DashboardSnapshot) -> [DashboardAlert] {
        var alerts: [DashboardAlert] = []
        func fire(_ rule: String, _ severity: DashboardAlert.Severity, _ subject: String, _ detail: String) {
            alerts.append(DashboardAlert(rule: rule, severity: severity, subject: subject, detail: detail))
        }
        // Service down: an instance or a backing service that does not answer.
        for row in snapshot.instances where row.state == .down {
            let why = row.error ?? (row.haproxyStatus.map { "HAProxy reports \($0)" } ?? "down")
            fire("service_down", .critical, row.name, why)
        }
        for (endpoint, name) in [(DashboardEndpoint.haproxy, "haproxy"), (.redis, "redis"), (.nats, "nats")] {
            if let failure = model.status(of: endpoint).lastFailure { fire("service_down", .critical, name, failure.reason) }
        }
        // High memory: resident memory over 80% of the container's limit.
        for row in snapshot.instances {
            guard let used = row.residentBytes, let limit = row.memoryLimitBytes, limit > 0 else { continue }
            let ratio = Double(used) / Double(limit)
            if ratio > Self.memoryRatio {
                fire("high_memory", .warning, row.name, "RSS \(ByteCount.format(used)) is \(percent(ratio)) of the \(ByteCount.format(limit)) limit")
            }
        }
        // Match queue backing up: over 10,000 and growing over the window.
        if let queue = snapshot.fleet.matchQueue, queue > Self.queueDepth {
            let earlier = model.fleetQueue.points(window: model.window).first?.value
            if let earlier, Double(queue) > earlier {
                fire("match_queue_backing_up", .warning, "fleet", "\(queue) waiting, up from \(DisplayFormat.count(earlier.wholeNumber)) in \(DisplayFormat.age(model.window))")
            }
        }
        // High message latency: fleet p99 over 500 ms.
        if let p99 = snapshot.fleet.p99, p99 > Self.latency {
            fire("high_latency", .warning, "fleet", "delivery p99 \(DisplayFormat.latency(p99)) over the last \(DisplayFormat.age(model.window))")
        }
        // High error rate: blocked messages over 5% of all.
        let everyMessage = model.targets.servers.map(\.name).filter(model.isReporting).compactMap { model.instances[$0] }
            .flatMap { track in ["sent", "received", "blocked", "lost"].compactMap { track.rate($0, window: model.window) } }
            .reduce(0, +)
        if let blocked = snapshot.fleet.blockedPerSecond, everyMessage > 0, blocked / everyMessage > Self.blockedRatio {
            fire("high_error_rate", .warning, "fleet", "\(percent(blocked / everyMessage)) of messages blocked")
        }
        // HAProxy backend down: the backend itself, or no server left serving it.
        if let haproxy = snapshot.haproxy, haproxy.error == nil, model.haproxyStats != nil {
            if haproxy.backendStatus?.uppercased().hasPrefix("DOWN") == true || (haproxy.servers > 0 && haproxy.serving == 0) {
                fire("haproxy_backend_down", .critical, haproxy.backend, "\(haproxy.serving)/\(haproxy.servers) servers serving")
            }
        }
        // Redis memory high: used_memory over 80% of maxmemory (what eviction compares).
        if let redis = snapshot.redis, let used = redis.usedMemory, let max = redis.maxMemory, max > 0 {
            let ratio = Double(used) / Double(max)
            if ratio > Self.redisMemoryRatio {
                fire("redis_memory_high", .warning, "redis", "\(ByteCount.format(used)) is \(percent(ratio)) of maxmemory \(ByteCount.format(max))")
            }
        }
        // Connection stall: connections do not grow while upgrades are being refused.
        let refused = sum(model.targets.servers.map(\.name).filter(model.isReporting)) { model.instances[$0]?.rate("rejected", window: model.window) }
        if let refused, refused > 0 {
            let points = model.fleetConnections.points(window: model.window)
            if let first = points.first, let last = points.last, last.at > first.at, last.value <= first.value {
                fire("connection_stall", .critical, "fleet", "connections flat at \(DisplayFormat.count(last.value.wholeNumber)) while \(DisplayFormat.rate(refused)) upgrades/s are refused")
            }
        }
        if let slow = snapshot.nats?.slowConsumers, slow > 0, snapshot.nats?.error == nil {
            fire("nats_slow_consumers", .warning, "nats", "\(slow) slow consumers: subscribers are dropping messages")
        }
        return alerts.sorted { $0.severity > $1.severity }
    }

    private func sum(_ names: [String], _ value: (String) -> Double?) -> Double? {
        let known = names.compactMap(value)
        return known.isEmpty ? nil : known.reduce(0, +)
    }

    private func percent(_ ratio: Double) -> String { "\((ratio * 100).rounded().wholeNumber.map(String.init) ?? "?")%" }
}
