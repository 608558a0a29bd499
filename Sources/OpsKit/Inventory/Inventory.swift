import Foundation

/// The effective description of one deployment: every value and where it came from.
public struct Inventory: Sendable {
    public var values: [ConfigKey: ConfigValue]
    /// The whisperctl.yml read, if any.
    public var configPath: String?
    /// The .env read, if any.
    public var dotenvPath: String?
    /// Problems that did not stop loading (unknown keys, unset `${VAR}`s).
    public var diagnostics: [ConfigDiagnostic]

    public init(values: [ConfigKey: ConfigValue], configPath: String? = nil, dotenvPath: String? = nil, diagnostics: [ConfigDiagnostic] = []) {
        self.values = values
        self.configPath = configPath
        self.dotenvPath = dotenvPath
        self.diagnostics = diagnostics
    }

    /// A scalar setting; empty strings count as unset.
    public func string(_ key: ConfigKey) -> String? {
        guard let text = values[key]?.scalar, !text.isEmpty else { return nil }
        return text
    }

    public func source(of key: ConfigKey) -> ValueSource? { values[key]?.source }

    public var deployment: String { string(.deployment) ?? "local" }

    /// No file and no layer names a component: the local development stack's defaults stand in,
    /// which commands say so the operator knows what was checked.
    public var describesNothing: Bool {
        configPath == nil && ConfigKey.components.allSatisfy { key in values[key].map { $0.source == .builtInDefault } ?? true }
    }

    /// Components this deployment does not name (and so does not probe or lock on), in key order.
    public var unconfiguredComponents: [ConfigKey] {
        ConfigKey.components.filter { key in
            switch values[key]?.content {
            case .scalar(let text)?: return text.isEmpty
            case .servers(let entries)?: return entries.isEmpty
            case .list, nil: return true
            }
        }.sorted()
    }

    public var servers: [ServerEntry] {
        if case .servers(let entries) = values[.servers]?.content { return entries }
        return []
    }

    /// The certificate files, relative ones resolved against the inventory's directory.
    public var certificatePaths: [String] { certs.map { resolve($0.path) } }

    public var certs: [(path: String, source: ValueSource)] { paths(.certs) }

    /// `runbooks.dirs`, relative ones resolved against the inventory's directory.
    public var runbookDirectories: [String] { paths(.runbooksDirs).map { resolve($0.path) } }

    private func paths(_ key: ConfigKey) -> [(path: String, source: ValueSource)] {
        if case .list(let items) = values[key]?.content { return items.map { ($0.0, $0.1) } }
        return []
    }

    /// `prometheus.config`, resolved against the inventory's directory.
    public var prometheusConfig: String? { string(.prometheusConfig).map(resolve) }
    public var haproxyStatsURL: String? { string(.haproxyStatsURL) }
    public var haproxyRuntimeAPI: String? { string(.haproxyRuntimeAPI) }
    public var haproxyBackend: String { string(.haproxyBackend) ?? Inventory.defaultBackend }
    /// `haproxy.config`, resolved against the inventory's directory.
    public var haproxyConfig: String? { string(.haproxyConfig).map(resolve) }
    /// `haproxy.frontend`: the WebSocket URL clients use, through HAProxy.
    public var haproxyFrontend: String? { string(.haproxyFrontend) }
    public var redisAddr: String? { string(.redisAddr) }
    public var redisPassword: String? { string(.redisPassword) }
    public var natsURL: String? { string(.natsURL) }
    public var natsMonitorURL: String? { string(.natsMonitorURL) }
    public var postgresURL: String? { string(.postgresURL) }
    /// Every service whose log the inventory names (`logs:`): the servers by name, then haproxy,
    /// redis, nats and postgres. A relative file path is read beside the inventory.
    public var serviceLogs: [ServiceLog] {
        var logs = servers.compactMap { server in server.logs.map { ServiceLog(service: server.name, text: $0, origin: server.source) } }
        let components: [(String, ConfigKey)] = [("haproxy", .haproxyLogs), ("redis", .redisLogs), ("nats", .natsLogs), ("postgres", .postgresLogs)]
        for (name, key) in components {
            if let text = string(key) { logs.append(ServiceLog(service: name, text: text, origin: source(of: key))) }
        }
        return logs.map { log in
            var log = log
            log.baseDirectory = baseDirectory
            return log
        }
    }

    /// The directory every relative path in the inventory is read from, whichever command reads
    /// it and wherever it runs from (cron runs in $HOME): the inventory file's, else the working
    /// directory. Always absolute.
    public var baseDirectory: String {
        let here = FileManager.default.currentDirectoryPath
        guard let configPath else { return here }
        let directory = (configPath as NSString).deletingLastPathComponent
        if directory.hasPrefix("/") { return directory }
        return ((here as NSString).appendingPathComponent(directory) as NSString).standardizingPath
    }

    /// The inventory file as an absolute path, for schedules (cron runs in $HOME).
    public var absoluteConfigPath: String? { configPath.map(resolveFromHere) }

    private func resolveFromHere(_ path: String) -> String {
        path.hasPrefix("/") ? path : ((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }

    /// `path` as the inventory means it: relative to `baseDirectory`.
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : ((baseDirectory as NSString).appendingPathComponent(path) as NSString).standardizingPath
    }

    /// `migrations.dir`, default `migrations/` beside the inventory.
    public var migrationsDirectory: String { resolve(string(.migrationsDir) ?? "migrations") }

    /// `backup.dir`, default `backups/` beside the inventory.
    public var backupDirectory: String { resolve(string(.backupDir) ?? "backups") }

    /// Whether backups are part of this deployment: `backup.dir` is set, or the default exists.
    var backupsConfigured: Bool { string(.backupDir) != nil || FileManager.default.fileExists(atPath: backupDirectory) }

    /// Settings read as durations, and those read as whole numbers: `config check` reads each
    /// through the same accessor the commands use.
    /// The values of the typed settings an inventory leaves unset (`config show` lists them).
    public static let defaultLockTimeout: Duration = .seconds(5)
    public static let defaultKeepDays = 30
    public static let defaultKeepLast = 0
    public static let defaultWarnAge: Duration = .seconds(26 * 3600)
    public static let defaultCriticalAge: Duration = .seconds(50 * 3600)

    public static let durationKeys: [ConfigKey] = [.migrationsLockTimeout, .backupWarnAge, .backupCriticalAge]
    public static let wholeNumberKeys: [ConfigKey] = [.backupKeepDays, .backupKeepLast]

    /// A duration setting, or `fallback`; a malformed one is a configuration error. A bare number
    /// is seconds; 0 is allowed where it means "no limit" (`migrations.lock_timeout`).
    public func duration(_ key: ConfigKey, default fallback: Duration) throws -> Duration {
        guard let text = string(key) else { return fallback }
        let zeroAllowed = key == .migrationsLockTimeout
        guard let value = Duration(parsing: text), value > .zero || (zeroAllowed && value == .zero) else {
            throw OpsError(
                .invalidInput,
                "\(key.rawValue) expects a duration such as 26h, 5s or 300 (seconds)\(zeroAllowed ? ", or 0 for no limit" : ""), got '\(text)'")
        }
        return value
    }

    public func integer(_ key: ConfigKey, default fallback: Int) throws -> Int {
        guard let text = string(key) else { return fallback }
        guard let value = Int(text), value >= 0 else { throw OpsError(.invalidInput, "\(key.rawValue) expects a whole number, got '\(text)'") }
        return value
    }

    /// Where mutations are recorded (`AuditLog`): `audit.log`, else the user's state directory.
    public var auditLogPath: String { string(.auditLog).map(resolve) ?? AuditLog.defaultPath() }

    /// The Redis address with the configured password applied.
    public func redisAddress() throws -> RedisAddress? {
        guard let addr = redisAddr else { return nil }
        var address = try RedisAddress(parsing: addr)
        if address.password == nil { address.password = redisPassword }
        return address
    }

    public static let defaultBackend = "ws_servers"

    /// The built-in defaults: a local development stack.
    public static let defaults: [ConfigKey: ConfigValue] = {
        func scalar(_ text: String) -> ConfigValue { ConfigValue(.scalar(text), source: .builtInDefault) }
        return [
            .deployment: scalar("local"),
            .servers: ConfigValue(
                .servers([ServerEntry(name: "ws1", url: "http://127.0.0.1:8080", source: .builtInDefault)]),
                source: .builtInDefault),
            .haproxyStatsURL: scalar("http://127.0.0.1:8404/haproxy/stats"),
            .haproxyBackend: scalar(defaultBackend),
            .redisAddr: scalar("127.0.0.1:6379"),
            .natsURL: scalar("nats://127.0.0.1:4222"),
            .natsMonitorURL: scalar("http://127.0.0.1:8222"),
            .postgresURL: scalar("postgres://whisper@127.0.0.1:5432/whisper?sslmode=disable"),
            .certs: ConfigValue(.list([]), source: .builtInDefault),
        ]
    }()
}
