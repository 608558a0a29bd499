import Foundation

/// `diag redis`: INFO and CONFIG against the playbook, SLOWLOG (values never shown), PING
/// latency, the match queue over two samples, session keys counted by SCAN.
public struct RedisDiagnosis: Sendable {
    public var address: RedisAddress
    public var pings = 50
    var slowlogEntries = 10
    /// Between the two samples of the match queue.
    public var queueInterval: Duration = .seconds(1)
    public var tier: CapacityTier
    /// Why Redis did not answer earlier in the same run: reported without waiting a second time.
    public var unanswered: String?

    public init(address: RedisAddress, tier: CapacityTier) {
        self.address = address
        self.tier = tier
    }

    static func unreachable(_ endpoint: String, observed: String) -> Finding {
        Finding(
            "redis", "reachable", .critical, "Redis does not answer at \(endpoint)", observed: observed,
            source: GuideSection.operations,
            fix: "systemctl status redis-server (or docker compose ps redis); check REDIS_ADDR / redis.addr and that Redis listens there")
    }

    public func run(in environment: ProbeEnvironment) async -> [Finding] {
        let endpoint = address.description
        if let unanswered { return [Self.unreachable(endpoint, observed: unanswered)] }
        let connection: RedisConnection
        do {
            connection = try await RedisConnection.connect(to: address, timeout: environment.timeout, pool: environment.pool, onCancel: .abandon)
        } catch {
            return [Self.unreachable(endpoint, observed: "\(error)")]
        }
        defer { connection.close() }
        do {
            var findings: [Finding] = []
            findings += try await latency(connection)
            let replies = try await connection.pipeline([
                ["INFO", "all"], ["CONFIG", "GET", "*"], ["SLOWLOG", "GET", "\(slowlogEntries)"], ["ZCARD", RedisProbe.matchQueueKey],
            ])
            let info = parseRedisInfo(replies[0].string ?? "")
            var config: [String: String] = [:]
            if case .array(let items) = replies[1] {
                var index = 0
                while index + 1 < items.count {
                    if let key = items[index].string { config[key] = items[index + 1].string ?? "" }
                    index += 2
                }
            }
            findings += evaluate(info: info, config: config)
            findings += slowlog(replies[2])
            try await Task.sleep(for: queueInterval)
            let later = try await connection.send(["ZCARD", RedisProbe.matchQueueKey]).int
            findings += matchQueue(first: replies[3].int, second: later)
            findings.append(try await sessions(connection))
            return findings
        } catch {
            return [Finding("redis", "query", .unknown, "Redis answered, but a diagnostic command failed", observed: "\(error)")]
        }
    }

    func latency(_ connection: RedisConnection) async throws -> [Finding] {
        var samples: [Double] = []
        for _ in 0..<pings {
            let started = ContinuousClock.now
            _ = try await connection.send(["PING"])
            samples.append((ContinuousClock.now - started).seconds * 1000)
        }
        samples.sort()
        func at(_ q: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count) * q))] }
        let observed = String(format: "%d PINGs: p50 %.2f ms, p99 %.2f ms, max %.2f ms", samples.count, at(0.5), at(0.99), samples.last ?? 0)
        let slow = at(0.99) > 10
        return [Finding(
            "redis", "latency", slow ? .warning : .ok, slow ? "Redis round trips are slow" : "Redis round trips", observed: observed,
            recommended: slow ? "p99 under 10 ms (as redis-cli --latency shows it)" : nil, source: slow ? GuideSection.redisBottlenecks : nil,
            fix: slow ? "look at SLOWLOG, CPU steal and persistence forks (INFO persistence: latest_fork_usec)" : nil)]
    }

    /// The verdicts on INFO and CONFIG, separate from the network for tests.
    public func evaluate(info: [String: String], config: [String: String]) -> [Finding] {
        var findings: [Finding] = []
        let used = Int(info["used_memory"] ?? "") ?? 0
        let rss = Int(info["used_memory_rss"] ?? "") ?? 0
        let maxmemory = Int(config["maxmemory"] ?? info["maxmemory"] ?? "") ?? 0
        let policy = config["maxmemory-policy"] ?? info["maxmemory_policy"] ?? "?"
        let memory = "used \(ByteCount.format(used)), RSS \(ByteCount.format(rss)), maxmemory \(maxmemory > 0 ? ByteCount.format(maxmemory) : "0 (none)"), policy \(policy)"
        if maxmemory > 0 {
            let ratio = Double(used) / Double(maxmemory)
            let severity: Finding.Severity = ratio >= 0.95 ? .critical : ratio >= 0.8 ? .warning : .ok
            findings.append(Finding(
                "redis", "memory", severity, severity == .ok ? "memory within maxmemory" : String(format: "memory at %.0f%% of maxmemory", ratio * 100),
                observed: memory, recommended: severity == .ok ? nil : "under 80% of maxmemory", source: GuideSection.alerts,
                fix: severity == .ok ? nil : "raise maxmemory (redis-cli CONFIG SET maxmemory \(tier.redisMaxmemory); then CONFIG REWRITE) or find what grows: redis-cli --bigkeys"))
        } else {
            findings.append(Finding(
                "redis", "memory", .info, "no maxmemory: Redis may take all of the host's memory", observed: memory,
                recommended: "maxmemory \(tier.redisMaxmemory) with allkeys-lru", source: GuideSection.redisConfig,
                fix: "redis-cli CONFIG SET maxmemory \(tier.redisMaxmemory) && redis-cli CONFIG REWRITE  # or in redis.conf: maxmemory \(tier.redisMaxmemory)"))
        }
        if policy == "noeviction" {
            let full = maxmemory > 0 && Double(used) / Double(maxmemory) >= 0.95
            findings.append(Finding(
                "redis", "maxmemory-policy", full ? .critical : .warning,
                full ? "Redis is full and refuses writes (noeviction): sessions and the match queue fail" : "maxmemory-policy noeviction: at the limit every write fails",
                observed: "maxmemory-policy noeviction", recommended: "allkeys-lru (session data is ephemeral)", source: GuideSection.redisConfig,
                fix: "redis-cli CONFIG SET maxmemory-policy allkeys-lru && redis-cli CONFIG REWRITE  # redis.conf: maxmemory-policy allkeys-lru"))
        }
        let clients = Int(info["connected_clients"] ?? "") ?? 0
        if let maxclients = Int(config["maxclients"] ?? "") {
            let ratio = Double(clients) / Double(max(1, maxclients))
            findings.append(Finding(
                "redis", "clients", ratio >= 0.8 ? .warning : .ok, ratio >= 0.8 ? "clients near maxclients" : "clients",
                observed: "\(clients) connected of maxclients \(maxclients)", recommended: ratio >= 0.8 ? "maxclients \(tier.redisMaxclients)" : nil,
                source: GuideSection.redisConfig, fix: ratio >= 0.8 ? "redis-cli CONFIG SET maxclients \(tier.redisMaxclients) (and raise Redis' open-files limit to match)" : nil))
        }
        if let rejected = Int(info["rejected_connections"] ?? ""), rejected > 0 {
            findings.append(Finding(
                "redis", "rejected-connections", .warning, "Redis has refused connections", observed: "rejected_connections \(rejected) since start",
                recommended: "0; maxclients \(tier.redisMaxclients)", source: GuideSection.redisConfig,
                fix: "redis-cli CONFIG SET maxclients \(tier.redisMaxclients); check the open-files limit of redis-server (whisperctl diag kernel)"))
        }
        let save = config["save"] ?? ""
        let aof = config["appendonly"] ?? "no"
        if !save.isEmpty || aof == "yes" {
            findings.append(Finding(
                "redis", "persistence", .info, "persistence is on: its fork() stalls Redis in proportion to the data",
                observed: "save '\(save)', appendonly \(aof)", recommended: "save \"\" and appendonly no (everything Whisper keeps is ephemeral)",
                source: GuideSection.redisConfig, fix: "redis-cli CONFIG SET save \"\" && redis-cli CONFIG SET appendonly no && redis-cli CONFIG REWRITE"))
        }
        if let backlog = Int(config["tcp-backlog"] ?? ""), backlog < tier.somaxconn {
            findings.append(Finding(
                "redis", "tcp-backlog", tier.connections >= 100_000 ? .warning : .info, "tcp-backlog below the recommendation",
                observed: "tcp-backlog \(backlog)", recommended: "\(tier.somaxconn) (and net.core.somaxconn at least as high)", source: GuideSection.redisConfig,
                fix: "redis.conf: tcp-backlog \(tier.somaxconn) (needs a restart); sysctl net.core.somaxconn=\(tier.somaxconn)"))
        }
        if let hz = Int(config["hz"] ?? ""), hz < 100, tier.connections >= 500_000 {
            findings.append(Finding("redis", "hz", .info, "hz below the recommendation for this tier", observed: "hz \(hz)", recommended: "100",
                source: GuideSection.redisConfig, fix: "redis-cli CONFIG SET hz 100"))
        }
        if config["timeout"] == "0" {
            findings.append(Finding("redis", "timeout", .info, "idle clients are never closed", observed: "timeout 0", recommended: "300",
                source: GuideSection.redisConfig, fix: "redis-cli CONFIG SET timeout 300"))
        }
        if let threads = Int(config["io-threads"] ?? ""), threads < 4, tier.connections >= 500_000 {
            findings.append(Finding("redis", "io-threads", .info, "single-threaded I/O at this tier", observed: "io-threads \(threads)", recommended: "4, with io-threads-do-reads yes",
                source: GuideSection.redisConfig, fix: "redis.conf: io-threads 4 and io-threads-do-reads yes (needs a restart)"))
        }
        if info["role"] == "slave", info["master_link_status"] != "up" {
            findings.append(Finding("redis", "replication", .warning, "the replica's link to its master is down",
                observed: "master_link_status \(info["master_link_status"] ?? "?"), master \(info["master_host"] ?? "?"):\(info["master_port"] ?? "?")",
                fix: "redis-cli INFO replication on both sides; check the network and masterauth"))
        }
        return findings
    }

    /// Slow commands, the command and its key only: values may be anyone's chat text.
    func slowlog(_ reply: RESPValue) -> [Finding] {
        guard case .array(let entries) = reply, !entries.isEmpty else { return [] }
        var lines: [String] = []
        var slowest = 0
        for entry in entries {
            guard case .array(let fields) = entry, fields.count >= 4, let micros = fields[2].int, case .array(let words) = fields[3] else { continue }
            slowest = max(slowest, micros)
            let parts = words.compactMap(\.string)
            let shown = parts.prefix(2).map { String($0.prefix(40)) }.joined(separator: " ") + (parts.count > 2 ? " …(\(parts.count - 2) more)" : "")
            lines.append(String(format: "%.1f ms %@", Double(micros) / 1000, shown))
        }
        guard !lines.isEmpty else { return [] }
        return [Finding(
            "redis", "slowlog", slowest >= 10_000 ? .warning : .info, "\(lines.count) slow commands in SLOWLOG",
            observed: lines.prefix(5).joined(separator: "; "), recommended: "no command over 10 ms; never KEYS or a full ZRANGE of the queue",
            source: GuideSection.redisBottlenecks, fix: "redis-cli SLOWLOG GET 20 for the whole list; redis-cli SLOWLOG RESET once looked at")]
    }

    func matchQueue(first: Int?, second: Int?) -> [Finding] {
        guard let first, let second else { return [] }
        let growing = second > first && second > 100
        return [Finding(
            "redis", "match-queue", growing ? .warning : .ok, growing ? "the match queue grows" : "match queue",
            observed: "ZCARD \(RedisProbe.matchQueueKey): \(first), then \(second) \(queueInterval.humanReadable) later",
            recommended: growing ? "near zero when matching keeps up" : nil, source: growing ? GuideSection.alerts : nil,
            fix: growing ? "matching cannot keep up: look at Redis latency and SLOWLOG, and the servers' whisper_match_duration_seconds" : nil)]
    }

    /// Session keys counted by SCAN (never KEYS), bounded so a huge keyspace stays cheap.
    func sessions(_ connection: RedisConnection) async throws -> Finding {
        var cursor = "0"
        var count = 0
        var rounds = 0
        repeat {
            let reply = try await connection.send(["SCAN", cursor, "MATCH", "session:*", "COUNT", "1000"])
            guard case .array(let parts) = reply, parts.count == 2, let next = parts[0].string, case .array(let keys) = parts[1] else { break }
            cursor = next
            count += keys.count
            rounds += 1
        } while cursor != "0" && rounds < 200
        let complete = cursor == "0"
        return Finding("redis", "sessions", .ok, "session keys", observed: "\(count)\(complete ? "" : "+ (stopped after \(rounds) SCAN rounds)") session:* keys (SCAN)")
    }
}
