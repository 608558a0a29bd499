import Foundation

/// `whisperctl capacity`: the playbook's sizing as a calculator, with this project's measured
/// figures (docs/server.md, README) beside the playbook's Go-server figures.
public struct CapacityPlan: Sendable {
    public var connections: Int
    public var activeRatio: Double
    /// Chat messages per second across the deployment.
    public var messageRate: Double
    /// Connections one instance should hold (the guide runs several per host beyond 100K).
    public var perInstance: Int

    // Measured here: 4.1 KiB of server RSS per connection idle in a chat, 4.0 never matched;
    // 42.7 µs of server CPU per relayed message; 1.5 Redis commands per chat message over a 10 s
    // run, setup included (1.0 in the steady state), and 1.03 NATS messages; a load client core
    // drives about 25,000 msg/s.
    static let measuredBytesPerChatting = 4_198
    static let measuredBytesPerIdle = 4_096
    static let measuredCPUPerMessage = 42.7e-6
    static let redisCommandsPerMessage = 1.5
    static let natsMessagesPerMessage = 1.03
    static let loadClientMessagesPerCore = 25_000.0
    // The playbook's: kernel ~17 KB per connection, ~300 B of Redis session hash, HAProxy ~17 KB,
    // 200 MB of base overhead per server.
    static let kernelBytesPerConnection = 17 * 1024
    static let redisBytesPerSession = 300
    static let haproxyBytesPerConnection = 17 * 1024
    static let baseBytesPerServer = 200 * 1_000_000

    public init(connections: Int, activeRatio: Double = 0.1, messageRate: Double? = nil, perInstance: Int = 100_000) {
        self.connections = connections
        self.activeRatio = activeRatio
        // Default: each chatting user sends one message every 10 s.
        self.messageRate = messageRate ?? Double(connections) * activeRatio / 10
        self.perInstance = perInstance
    }

    public struct Row: Sendable {
        public var item: String
        public var value: String
        public var basis: String
    }

    /// At least two: one is drained at a time during a rollout.
    public var instances: Int { max(2, (connections + perInstance - 1) / perInstance) }

    public var rows: [Row] {
        let chatting = Int(Double(connections) * activeRatio)
        let idle = connections - chatting
        let serverBytes = chatting * Self.measuredBytesPerChatting + idle * Self.measuredBytesPerIdle
        let kernel = connections * Self.kernelBytesPerConnection
        let perServerMemory = Self.baseBytesPerServer + (serverBytes + kernel) / instances
        let playbookMemory = Self.baseBytesPerServer + connections * 20_000
        let cores = messageRate * Self.measuredCPUPerMessage
        let redisOps = messageRate * Self.redisCommandsPerMessage
        let tier = CapacityTier.fitting(connections)
        let sourceIPs = max(1, (connections + 63_999) / 64_000)
        let clientCores = max(1, Int((messageRate / Self.loadClientMessagesPerCore).rounded(.up)))
        func bytes(_ n: Int) -> String { ByteCount.format(n) }
        return [
            Row(item: "whisper-server instances", value: "\(instances) (\(perInstance) connections each at most)", basis: "one instance per \(perInstance) connections, at least 2 (a rollout drains one at a time, the others take its users)"),
            Row(item: "server memory per instance", value: bytes(perServerMemory), basis: "measured 4.1 KiB per chatting and 4.0 KiB per idle connection, kernel 17 KB each, 200 MB base"),
            Row(item: "server memory (playbook formula, all)", value: bytes(playbookMemory), basis: "200 MB + 20 KB x connections (§1.3, for the Go server)"),
            Row(item: "host RAM for the tier", value: "\(bytes(tier.minimumRAMBytes)) minimum, \(bytes(tier.recommendedRAMBytes)) recommended", basis: "§4.2, tier \(tier.name)"),
            Row(item: "server CPU cores (relay)", value: String(format: "%.2f at %.0f msg/s (+ 1 per instance for heartbeats, TLS at HAProxy)", cores, messageRate), basis: "measured 42.7 µs per relayed message"),
            Row(item: "Redis memory", value: bytes(connections * Self.redisBytesPerSession + chatting * 256 * 64), basis: "300 B session hash per connection (§1.2) + resume buffers of chatting users"),
            Row(item: "Redis ops/s", value: String(format: "%.0f", redisOps), basis: "measured 1.5 commands per chat message (sessions and matching included); one Redis core does ~100K ops/s"),
            Row(item: "NATS msgs/s", value: String(format: "%.0f", messageRate * Self.natsMessagesPerMessage), basis: "measured 1.03 NATS messages per chat message"),
            Row(item: "HAProxy memory", value: bytes(connections * Self.haproxyBytesPerConnection), basis: "~17 KB per connection (§3.7); maxconn \(tier.haproxyMaxconn)"),
            Row(item: "kernel TCP buffer memory", value: bytes(kernel), basis: "tcp_rmem + tcp_wmem defaults of 8 KB each (§1.2, §3.3)"),
            Row(item: "load test: source IPs", value: "\(sourceIPs)", basis: "~64K ports per source IP with ip_local_port_range 1024-65535 (§2.3)"),
            Row(item: "load test: client cores", value: "\(clientCores)", basis: "measured ~25,000 msg/s per load-client core"),
            Row(item: "load test: ulimit -n per client", value: "\(max(65_536, connections / max(1, clientCores) + 1024))", basis: "one descriptor per connection (§3.4)"),
        ]
    }

    public var json: JSONValue {
        .object([
            ("connections", .int(connections)), ("active_ratio", .double(activeRatio)), ("message_rate", .double(messageRate)),
            ("instances", .int(instances)),
            ("rows", .array(rows.map { .object([("item", .string($0.item)), ("value", .string($0.value)), ("basis", .string($0.basis))]) })),
        ])
    }
}
