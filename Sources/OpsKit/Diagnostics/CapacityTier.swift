import Foundation

/// The playbook's tiers (10K, 100K, 500K, 1M connections) and what each asks of the host and
/// the services. The 1M column is the playbook's own; smaller tiers scale it down where the
/// playbook's formula does, and never below the Linux defaults it replaces.
public struct CapacityTier: Sendable, Equatable {
    public var name: String
    public var connections: Int

    public static let all = [
        CapacityTier(name: "10k", connections: 10_000), CapacityTier(name: "100k", connections: 100_000),
        CapacityTier(name: "500k", connections: 500_000), CapacityTier(name: "1m", connections: 1_000_000),
    ]

    public init(name: String, connections: Int) {
        self.name = name
        self.connections = connections
    }

    public init?(named text: String) {
        guard let tier = Self.all.first(where: { $0.name == text.lowercased() }) else { return nil }
        self = tier
    }

    /// The smallest tier that holds `connections`.
    static func fitting(_ connections: Int) -> CapacityTier {
        all.first { $0.connections >= connections } ?? all.last!
    }

    // Files: every connection is a descriptor, plus the services' own and headroom.
    var fileMax: Int { max(2_097_152, connections * 2) }
    var nrOpen: Int { max(1_048_576, connections + 65_536) }
    var epollWatches: Int { max(524_288, connections * 2) }
    public var nofile: Int { max(65_536, connections + 65_536) }
    public var somaxconn: Int { connections >= 100_000 ? 65_535 : 4_096 }
    var netdevBacklog: Int { connections >= 100_000 ? 65_535 : 16_384 }
    var maxOrphans: Int { connections >= 500_000 ? 262_144 : 65_536 }
    /// TCP memory pages (4 KiB): the playbook's 1,572,864 (6 GB) at 1M, in proportion below.
    var tcpMemMaxPages: Int { max(196_608, connections / 1000 * 1_572_864 / 1000) }

    /// The playbook's memory formula: 200 MB + 20 KB per connection.
    var formulaMemoryBytes: Int { 200 * 1_000_000 + connections * 20_000 }
    /// §4.2's minimum and recommended RAM.
    var minimumRAMBytes: Int { [10_000: 4, 100_000: 8, 500_000: 24, 1_000_000: 48][connections, default: 48] << 30 }
    var recommendedRAMBytes: Int { [10_000: 8, 100_000: 16, 500_000: 32, 1_000_000: 64][connections, default: 64] << 30 }
    var recommendedCores: String { [10_000: "2-4", 100_000: "4-8", 500_000: "8-12", 1_000_000: "16"][connections, default: "16"] }

    var redisMaxmemory: String { connections >= 500_000 ? "8gb" : connections >= 100_000 ? "2gb" : "1gb" }
    var redisMaxclients: Int { connections >= 500_000 ? 20_000 : 10_000 }
    var natsMaxConnections: Int { connections >= 500_000 ? 100_000 : 65_536 }
    var haproxyMaxconn: Int { connections + connections / 10 }
}
