import Foundation
import ArgumentParser
import OpsKit

/// Where the deployment is described, and flags that override it (the highest precedence).
struct InventoryOptions: ParsableArguments {
    @Option(
        name: .long, help: ArgumentHelp("The deployment file.", discussion: "Default: $WHISPERCTL_CONFIG, then ./whisperctl.yml.", valueName: "path"),
        completion: .file(extensions: ["yml", "yaml"]))
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
        for server in servers {
            let parts = server.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("--server expects NAME=URL, got '\(Redactor.redactValue(server))'")
            }
            if let problem = URLCheck.problem(String(parts[1]), schemes: ["http", "https"]) {
                throw ValidationError("--server \(parts[0]): \(problem)")
            }
        }
    }

    /// The options every command reading the inventory takes, which may also come before the
    /// subcommand (`whisperctl --config x.yml status`), as the top-level help says.
    static let hoistable: Set<String> = ["--config", "--redis", "--database-url", "--nats-monitor", "--haproxy-stats", "--server"]

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

    /// The inventory, or exit 3 naming every configuration error with its file:line (all of them):
    /// a command never falls back to defaults past a typo. Warnings are printed and tolerated.
    func loadOrExit(json: Bool) throws -> Inventory {
        try Self.loadOrExit(loader(), json: json)
    }

    /// The same, for a command that takes only --config.
    static func loadOrExit(_ loader: InventoryLoader, json: Bool) throws -> Inventory {
        let problems: [ConfigDiagnostic]
        var deployment: Inventory?
        do {
            let loaded = try loader.load()
            deployment = loaded
            problems = InventoryValidator().validate(loaded, checkFiles: false)
        } catch let error as ConfigError {
            problems = error.diagnostics
        }
        let errors = problems.filter { $0.severity == .error }
        for problem in problems { printError(problem.description) }
        guard let deployment, errors.isEmpty else {
            let file = (try? loader.resolveConfigPath()) ?? nil
            let summary = "\(file ?? "the configuration"): \(errors.count) error(s); nothing was done (whisperctl config check explains)"
            printError(summary)
            if json {
                let body = JSONValue.object([
                    ("overall", .string(HealthStatus.unknown.rawValue)), ("checked_at", .string(StatusReport.iso8601(Date()))),
                    ("error", .string(summary)), ("config_file", file.map(JSONValue.string) ?? .null),
                    ("problems", .array(problems.map(\.json))), ("components", .array([])),
                ])
                print(body.prettyPrinted())
            }
            throw ExitStatus.unknown
        }
        if deployment.describesNothing {
            printError("note: no inventory (--config, $WHISPERCTL_CONFIG or ./whisperctl.yml): using the local development stack's addresses (whisperctl config show lists them)")
        }
        return deployment
    }
}

extension Duration: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        guard let parsed = Duration(parsing: argument), parsed > .zero else { return nil }
        self = parsed
    }

    public var defaultValueDescription: String { humanReadable.replacingOccurrences(of: " ", with: "") }
}
