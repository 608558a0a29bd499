import Foundation

/// Builds the effective `Inventory` from its layers, highest precedence first:
/// flags > environment > whisperctl.yml > .env > built-in defaults.
public struct InventoryLoader: Sendable {
    /// `--config`, if given.
    public var explicitPath: String?
    /// Values given as flags.
    public var flags: [ConfigKey: ConfigValue]
    public var environment: [String: String]
    /// Where `./whisperctl.yml` and `./.env` are looked for.
    public var workingDirectory: String

    public init(
        explicitPath: String? = nil, flags: [ConfigKey: ConfigValue] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) {
        self.explicitPath = explicitPath
        self.flags = flags
        self.environment = environment
        self.workingDirectory = workingDirectory
    }

    /// The config file to read: `--config`, then WHISPERCTL_CONFIG, then `./whisperctl.yml` if present.
    /// - Throws: `ConfigError` when a file named explicitly does not exist.
    public func resolveConfigPath() throws -> String? {
        if let explicitPath {
            guard FileManager.default.fileExists(atPath: explicitPath) else {
                throw ConfigError([ConfigDiagnostic(.error, location: explicitPath, field: nil, "no such file (from --config)")])
            }
            return explicitPath
        }
        if let fromEnv = environment["WHISPERCTL_CONFIG"], !fromEnv.isEmpty {
            guard FileManager.default.fileExists(atPath: fromEnv) else {
                throw ConfigError([ConfigDiagnostic(.error, location: fromEnv, field: nil, "no such file (from WHISPERCTL_CONFIG)")])
            }
            return fromEnv
        }
        let local = (workingDirectory as NSString).appendingPathComponent("whisperctl.yml")
        return FileManager.default.fileExists(atPath: local) ? "whisperctl.yml" : nil
    }

    /// Reads every layer and merges them.
    /// - Throws: `ConfigError` when the file cannot be read or parsed, with file:line.
    public func load() throws -> Inventory {
        let configPath = try resolveConfigPath()
        let directory = configPath.map { ($0 as NSString).deletingLastPathComponent } ?? ""
        let dotenvPath = directory.isEmpty ? ".env" : (directory as NSString).appendingPathComponent(".env")
        let dotenv = try DotEnv.load(path: absolute(dotenvPath), displayPath: dotenvPath)

        var configText: String?
        if let configPath {
            guard let data = FileManager.default.contents(atPath: absolute(configPath)) else {
                throw ConfigError([ConfigDiagnostic(.error, location: configPath, field: nil, "cannot read file")])
            }
            configText = String(decoding: data, as: UTF8.self)
        }
        return try assemble(configPath: configPath, configText: configText, dotenv: dotenv)
    }

    /// Merges the layers from what the files held (tests and fuzz targets call it without files).
    package func assemble(configPath: String?, configText: String?, dotenv: DotEnv?) throws -> Inventory {
        let displayDotenv = dotenv?.path
        // Secrets in the environment (REDIS_PASSWORD, a password in DATABASE_URL) never print.
        for (name, value) in environment { SecretRegistry.shared.registerValue(value, named: name) }
        var fileValues: [ConfigKey: ConfigValue] = [:]
        var diagnostics: [ConfigDiagnostic] = []
        if let configPath, let configText {
            let file = InventoryFile(path: configPath) { name in
                environment[name] ?? dotenv?.entries[name]?.value
            }
            (fileValues, diagnostics) = try file.read(text: configText)
        }

        let layers: [[ConfigKey: ConfigValue]] = [
            dotenv.map { deploymentVariables(from: $0.entries.mapValues { ($0.value, ValueSource.dotenv(path: displayDotenv ?? ".env", line: $0.line)) }) } ?? [:],
            fileValues,
            deploymentVariables(from: environment.mapValues { ($0, ValueSource.environment("")) }, namedSources: true),
            flags,
        ]
        // The local development stack's addresses stand in only while nothing describes the
        // deployment: once an inventory file exists or any layer names a component, a component
        // nobody named is not configured (never probed, never the lock's home).
        let described = configPath != nil || layers.contains { layer in layer.keys.contains { ConfigKey.components.contains($0) } }
        var merged = described ? Inventory.defaults.filter { !ConfigKey.components.contains($0.key) } : Inventory.defaults
        for layer in layers {
            merged.merge(layer) { _, higher in higher }
        }
        return Inventory(values: merged, configPath: configPath, dotenvPath: displayDotenv, diagnostics: diagnostics)
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : (workingDirectory as NSString).appendingPathComponent(path)
    }

    /// Maps the deployment's own variables (REDIS_ADDR, NATS_URL, DATABASE_URL,
    /// POSTGRES_USER/PASSWORD/DB...) onto configuration keys.
    private func deploymentVariables(
        from variables: [String: (String, ValueSource)], namedSources: Bool = false
    ) -> [ConfigKey: ConfigValue] {
        func source(_ name: String) -> ValueSource {
            namedSources ? .environment(name) : variables[name]!.1
        }
        var values: [ConfigKey: ConfigValue] = [:]
        let direct: [(String, ConfigKey)] = [
            ("REDIS_ADDR", .redisAddr), ("REDIS_PASSWORD", .redisPassword), ("NATS_URL", .natsURL),
            ("DATABASE_URL", .postgresURL), ("WHISPERCTL_AUDIT_LOG", .auditLog),
        ]
        for (name, key) in direct {
            if let (value, _) = variables[name], !value.isEmpty {
                values[key] = ConfigValue(.scalar(value), source: source(name))
            }
        }
        if values[.postgresURL] == nil, let (user, _) = variables["POSTGRES_USER"], !user.isEmpty {
            let password = variables["POSTGRES_PASSWORD"]?.0 ?? ""
            let database = variables["POSTGRES_DB"]?.0 ?? "whisper"
            let host = variables["POSTGRES_HOST"]?.0 ?? "127.0.0.1"
            let port = variables["POSTGRES_PORT"]?.0 ?? "5432"
            let userinfo = password.isEmpty ? percentEncode(user) : "\(percentEncode(user)):\(percentEncode(password))"
            values[.postgresURL] = ConfigValue(
                .scalar("postgres://\(userinfo)@\(host):\(port)/\(percentEncode(database))?sslmode=disable"),
                source: source("POSTGRES_USER"))
        }
        return values
    }

    private func percentEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
