import ArgumentParser
import Foundation
import OpsKit

struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or check the deployment configuration.",
        subcommands: [Show.self, Check.self]
    )
}

extension Config {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the effective configuration, secrets redacted, with where each value came from.",
            discussion: """
                Precedence: flags > environment > whisperctl.yml > .env > built-in defaults.

                Examples:
                  whisperctl config show
                  whisperctl --config prod.yml config show --json
                """
        )

        @OptionGroup var inventory: InventoryOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let deployment = try inventory.loadOrExit(json: false)
            let settings = ConfigKey.allCases.compactMap { key in deployment.values[key].map { (key, $0) } }
            if json {
                print(Self.jsonDocument(deployment).prettyPrinted())
            } else {
                print(table(deployment, settings))
            }
        }

        private func table(_ deployment: Inventory, _ settings: [(ConfigKey, ConfigValue)]) -> String {
            var rows: [[String]] = []
            for (key, value) in settings {
                switch value.content {
                case .scalar(let text):
                    rows.append([key.rawValue, ShownValue.redact(text, key: key), value.source.description])
                case .servers(let entries):
                    if entries.isEmpty { rows.append([key.rawValue, "(none)", value.source.description]) }
                    for (index, entry) in entries.enumerated() {
                        rows.append(["servers[\(index)]", "\(entry.name) \(Redactor.redactValue(entry.url))", entry.source.description])
                        if let restart = entry.restart {
                            rows.append(["servers[\(index)].restart", Self.describe(restart), restart.source.description])
                        }
                        if let logs = entry.logs {
                            rows.append(["servers[\(index)].logs", Redactor.redactValue(logs), entry.source.description])
                        }
                    }
                case .list(let items):
                    if items.isEmpty { rows.append([key.rawValue, "(none)", value.source.description]) }
                    for (index, item) in items.enumerated() {
                        rows.append(["\(key.rawValue)[\(index)]", item.0, item.1.description])
                    }
                }
            }
            for (key, value) in Self.effectiveDefaults(deployment) {
                rows.append([key, value, "default"])
            }
            for key in deployment.unconfiguredComponents {
                rows.append([key.rawValue, "(not configured)", "-"])
            }
            let files = "config file: \(deployment.configPath ?? "(none: built-in defaults)")"
                + "\n.env: \(deployment.dotenvPath ?? "(none)")"
            return files + "\n\n" + Table(headers: ["KEY", "VALUE", "SOURCE"], rows: rows).render()
        }

        /// A restart block as one line, secrets in its commands masked.
        static func describe(_ restart: RestartSpec) -> String {
            let settings = restart.settings.filter { $0.key != "driver" }.sorted { $0.key < $1.key }
            return (["driver=\(restart.driver.rawValue)"] + settings.map { "\($0.key)=\(Redactor.redactValue($0.value))" }).joined(separator: " ")
        }

        /// A duration as the inventory would write it: 26h, 5s.
        static func written(_ duration: Duration) -> String {
            let seconds = Int(duration.seconds)
            if seconds > 0, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
            if seconds > 0, seconds % 60 == 0 { return "\(seconds / 60)m" }
            return "\(seconds)s"
        }

        /// The values the commands use for keys the inventory leaves unset: every effective value.
        static func effectiveDefaults(_ deployment: Inventory) -> [(String, String)] {
            var defaults: [(String, String)] = []
            func unset(_ key: ConfigKey) -> Bool { deployment.values[key] == nil }
            if unset(.lockBackend) {
                defaults.append(("lock.backend", (try? OperationsLock.backend(for: deployment)).map { "(chosen) \($0.description)" } ?? "-"))
            }
            if unset(.auditLog) { defaults.append(("audit.log", deployment.auditLogPath)) }
            if unset(.migrationsDir) { defaults.append(("migrations.dir", deployment.migrationsDirectory)) }
            if unset(.migrationsLockTimeout) { defaults.append(("migrations.lock_timeout", Self.written(Inventory.defaultLockTimeout))) }
            if unset(.backupDir) { defaults.append(("backup.dir", deployment.backupDirectory)) }
            if unset(.backupKeepDays) { defaults.append(("backup.keep_days", String(Inventory.defaultKeepDays))) }
            if unset(.backupKeepLast) { defaults.append(("backup.keep_last", String(Inventory.defaultKeepLast))) }
            if unset(.backupWarnAge) { defaults.append(("backup.warn_age", Self.written(Inventory.defaultWarnAge))) }
            if unset(.backupCriticalAge) { defaults.append(("backup.critical_age", Self.written(Inventory.defaultCriticalAge))) }
            return defaults
        }

        /// The effective configuration as `config show --json` prints it (and `bundle` keeps it).
        static func jsonDocument(_ deployment: Inventory) -> JSONValue {
            let settings = ConfigKey.allCases.compactMap { key in deployment.values[key].map { (key, $0) } }
            func source(_ source: ValueSource) -> JSONValue {
                .object([("kind", .string(source.kind)), ("origin", .string(source.description))])
            }
            let entries: [JSONValue] = settings.map { key, value in
                let shown: JSONValue
                switch value.content {
                case .scalar(let text): shown = .string(ShownValue.redact(text, key: key))
                case .servers(let servers):
                    shown = .array(servers.map {
                        .object([
                            ("name", .string($0.name)), ("url", .string(Redactor.redactValue($0.url))), ("source", source($0.source)),
                            ("restart", $0.restart.map { .string(Self.describe($0)) } ?? .null),
                            ("logs", $0.logs.map { .string(Redactor.redactValue($0)) } ?? .null),
                        ])
                    })
                case .list(let items):
                    shown = .array(items.map { .object([("value", .string($0.0)), ("source", source($0.1))]) })
                }
                return .object([("key", .string(key.rawValue)), ("value", shown), ("source", source(value.source))])
            }
            return .object([
                ("config_file", deployment.configPath.map(JSONValue.string) ?? .null),
                ("dotenv_file", deployment.dotenvPath.map(JSONValue.string) ?? .null),
                ("settings", .array(entries + Self.effectiveDefaults(deployment).map { key, value in
                    .object([("key", .string(key)), ("value", .string(value)), ("source", .object([("kind", .string("default")), ("origin", .string("default"))]))])
                })),
                ("not_configured", .array(deployment.unconfiguredComponents.map { .string($0.rawValue) })),
            ])
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the configuration: unknown keys, malformed URLs and addresses, missing files.",
            discussion: """
                Every problem is listed with its file:line. Exit status: 0 valid, 1 warnings only, 2 errors.

                Examples:
                  whisperctl config check
                  whisperctl config check --config prod.yml --json
                """
        )

        @OptionGroup var inventory: InventoryOptions

        @Flag(help: "Print JSON.")
        var json = false

        @Flag(help: "Judge the file only: do not ask the servers and HAProxy who they are.")
        var offline = false

        func run() async throws {
            var problems: [ConfigDiagnostic]
            var configPath: String?
            do {
                let deployment = try inventory.loader().load()
                configPath = deployment.configPath
                problems = InventoryValidator().validate(deployment)
                if !offline { problems += await IdentityCheck(inventory: deployment).problems() }
            } catch let error as ConfigError {
                problems = error.diagnostics
                // The file that was read, even when it could not be parsed.
                configPath = (try? inventory.loader().resolveConfigPath()) ?? nil
            }
            let errors = problems.filter { $0.severity == .error }.count
            let warnings = problems.count - errors
            if json {
                let body = JSONValue.object([
                    ("config_file", configPath.map(JSONValue.string) ?? .null), ("valid", .bool(errors == 0)),
                    ("errors", .int(errors)), ("warnings", .int(warnings)),
                    ("problems", .array(problems.map(\.json))),
                ])
                print(body.prettyPrinted())
            } else {
                for problem in problems { print(problem.description) }
                let subject = configPath ?? "configuration (built-in defaults)"
                print(problems.isEmpty ? "\(subject): OK" : "\(subject): \(errors) error(s), \(warnings) warning(s)")
            }
            if errors > 0 { throw ExitStatus.critical }
            if warnings > 0 { throw ExitStatus.warning }
        }
    }
}

/// How a configuration value is shown: secrets masked, URL passwords masked.
enum ShownValue {
    static func redact(_ text: String, key: ConfigKey) -> String {
        if key.isSecret { return text.isEmpty ? "" : Redactor.mask }
        return Redactor.redactValue(text)
    }
}
