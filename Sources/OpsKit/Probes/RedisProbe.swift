import Foundation

/// Probes Redis: PING round trip, role, memory against maxmemory, clients, and the match queue depth.
public struct RedisProbe: Sendable {
    /// The sorted set whisper-server keeps waiting users in (one hash tag, so Cluster keeps it in one slot).
    public static let matchQueueKey = "{match}:queue"
    /// Above this the match queue is backing up (the operations guide's alert).
    static let matchQueueWarning = 10_000

    public var address: RedisAddress

    public init(address: RedisAddress) { self.address = address }

    public func run(in environment: ProbeEnvironment) async -> ComponentReport {
        let endpoint = address.description
        do {
            let connection = try await RedisConnection.connect(to: address, timeout: environment.timeout, pool: environment.pool, onCancel: .abandon)
            defer { connection.close() }
            let started = ContinuousClock.now
            _ = try await connection.send(["PING"])
            let latency = ContinuousClock.now - started
            let replies = try await connection.pipeline([["INFO"], ["ZCARD", RedisProbe.matchQueueKey]])
            guard let infoText = replies[0].string else {
                throw OpsError(.protocolError, "INFO failed: \(replies[0])", endpoint: endpoint)
            }
            return evaluate(info: parseRedisInfo(infoText), queueDepth: replies[1].int, latency: latency)
        } catch {
            return .failed(name: "redis", kind: .redis, endpoint: endpoint, error: error)
        }
    }

    /// Memory above 80% of maxmemory is a warning (the guide's alert), above 95% critical.
    public func evaluate(info: [String: String], queueDepth: Int?, latency: Duration) -> ComponentReport {
        let role = info["role"] ?? "unknown"
        let used = info["used_memory"].flatMap { Int($0) }
        let max = info["maxmemory"].flatMap { Int($0) } ?? 0
        let clients = info["connected_clients"].flatMap { Int($0) }
        var status: HealthStatus = .ok
        var notes = [role]
        if let used {
            if max > 0 {
                let ratio = Double(used) / Double(max)
                notes.append("mem \(ByteCount.format(used))/\(ByteCount.format(max)) (\(Int((ratio * 100).rounded()))%)")
                if ratio >= 0.95 { status = .critical } else if ratio >= 0.8 { status = .warning }
            } else {
                notes.append("mem \(ByteCount.format(used)) (no maxmemory)")
            }
        }
        if let clients { notes.append("\(clients) clients") }
        if let queueDepth {
            notes.append("queue \(queueDepth)")
            if queueDepth > RedisProbe.matchQueueWarning { status = HealthStatus.worst([status, .warning]) }
        }
        if role == "slave", info["master_link_status"] != "up" {
            status = HealthStatus.worst([status, .warning])
            notes.append("replication link \(info["master_link_status"] ?? "unknown")")
        }
        func int(_ value: Int?) -> JSONValue { value.map(JSONValue.int) ?? .null }
        return ComponentReport(
            name: "redis", kind: .redis, status: status, detail: notes.joined(separator: ", "), latency: latency,
            endpoint: address.description,
            facts: [
                ("role", .string(role)), ("version", info["redis_version"].map(JSONValue.string) ?? .null),
                ("used_memory", int(used)), ("maxmemory", .int(max)), ("connected_clients", int(clients)),
                ("match_queue_depth", int(queueDepth)),
            ])
    }
}

/// "1.5 MiB"-style sizes for tables.
public enum ByteCount {
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
