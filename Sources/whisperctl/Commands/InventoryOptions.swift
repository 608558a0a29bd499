import Foundation
import ArgumentParser
import OpsKit

/// Where the deployment is described, and flags that override it (the highest precedence).
struct InventoryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The deployment file.", discussion: "Default: $WHISPERCTL_CONFIG, then ./whisperctl.yml.", valueName: "path"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Redis address (host:port), overriding redis.addr.", valueName: "addr"))
    var redis: String?

    @Option(name: .customLong("database-url"), help: ArgumentHelp("PostgreSQL URL, overriding postgres.url.", valueName: "url"))
    var databaseURL: String?

    @Option(name: .customLong("nats-monitor"), help: ArgumentHelp("NATS monitoring URL, overriding nats.monitor_url.", valueName: "url"))
    var natsMonitor: String?

    @Option(name: .customLong("haproxy-stats"), help: ArgumentHelp("HAProxy stats URL, overriding haproxy.stats_url.", valueName: "url"))
    var haproxyStats: String?

    @Option(name: .customLong("server"), help: ArgumentHelp("A server as NAME=URL; repeat it; replaces servers.", valueName: "name=url"))
    var servers: [String] = []

    func validate() throws {
        for server in servers where !server.contains("=") {
            throw ValidationError("--server expects NAME=URL, got '\(Redactor.redactURL(server))'")
        }
    }

    /// The flag layer of the configuration.
    var flagValues: [ConfigKey: ConfigValue] {
        var values: [ConfigKey: ConfigValue] = [:]
        let pairs: [(String?, ConfigKey, String)] = [
            (redis, .redisAddr, "--redis"), (databaseURL, .postgresURL, "--database-url"),
            (natsMonitor, .natsMonitorURL, "--nats-monitor"), (haproxyStats, .haproxyStatsURL, "--haproxy-stats"),
        ]
        for (value, key, flag) in pairs {
            if let value { values[key] = ConfigValue(.scalar(value), source: .flag(flag)) }
        }
        if !servers.isEmpty {
            let entries = servers.map { text -> ServerEntry in
                let parts = text.split(separator: "=", maxSplits: 1)
                return ServerEntry(name: String(parts[0]), url: String(parts.count > 1 ? parts[1] : ""), source: .flag("--server"))
            }
            values[.servers] = ConfigValue(.servers(entries), source: .flag("--server"))
        }
        return values
    }

    func loader() -> InventoryLoader {
        InventoryLoader(explicitPath: config, flags: flagValues)
    }
}

extension Duration: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        guard let parsed = Duration(parsing: argument), parsed > .zero else { return nil }
        self = parsed
    }

    public var defaultValueDescription: String { humanReadable.replacingOccurrences(of: " ", with: "") }
}
