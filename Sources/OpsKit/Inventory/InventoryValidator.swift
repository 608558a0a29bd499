import Foundation

/// `whisperctl config check`: finds what would make a command fail later, each with where it was set.
/// Relative paths are judged where every command reads them: beside the inventory file.
public struct InventoryValidator: Sendable {
    public init() {}

    /// - Parameter checkFiles: also check that the files and sockets named exist (what `config
    ///   check` does); other commands report missing files through their own probes instead.
    public func validate(_ inventory: Inventory, checkFiles: Bool = true) -> [ConfigDiagnostic] {
        var problems = inventory.diagnostics
        func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: inventory.resolve(path)) }
        func report(_ key: ConfigKey, _ message: String, source: ValueSource? = nil, severity: ConfigDiagnostic.Severity = .error) {
            let origin = source ?? inventory.source(of: key)
            problems.append(ConfigDiagnostic(severity, location: origin?.location ?? origin?.description, field: key.rawValue, message))
        }

        var seenNames: [String: ValueSource] = [:]
        for entry in inventory.servers {
            if let problem = URLCheck.problem(entry.url, schemes: ["http", "https"]) {
                report(.servers, "server '\(entry.name)': \(problem)", source: entry.source)
            }
            if let first = seenNames[entry.name] {
                report(.servers, "duplicate server name '\(entry.name)' (also at \(first.description))", source: entry.source)
            }
            seenNames[entry.name] = entry.source
        }
        // Listed as empty is worth a word; left out, they are simply not configured.
        if inventory.values[.servers] != nil, inventory.servers.isEmpty {
            report(.servers, "no servers listed", severity: .warning)
        }
        for log in inventory.serviceLogs where !inventory.servers.contains(where: { $0.name == log.service }) {
            // A server's `logs:` was judged where it was read, with its line.
            guard let key = ConfigKey(rawValue: "\(log.service).logs") else { continue }
            do throws(LogSourceError) {
                if case .file(let path) = try log.source(), checkFiles, !FileManager.default.fileExists(atPath: path) {
                    report(key, "no such file: \(path)", severity: .warning)
                }
            } catch {
                report(key, error.description)
            }
        }
        if let url = inventory.haproxyStatsURL, let problem = URLCheck.problem(url, schemes: ["http", "https"]) {
            report(.haproxyStatsURL, problem)
        }
        if let api = inventory.haproxyRuntimeAPI {
            if api.hasPrefix("/") || api.hasPrefix("unix@") {
                let path = api.hasPrefix("unix@") ? String(api.dropFirst(5)) : api
                if checkFiles && !fileExists(path) { report(.haproxyRuntimeAPI, "no such socket: \(path)") }
            } else if let error = catching({ try HostPort.split(api.replacingOccurrences(of: "ipv4@", with: ""), defaultPort: nil, what: "runtime API address") }) {
                report(.haproxyRuntimeAPI, error)
            }
        }
        if let url = inventory.haproxyFrontend, let problem = URLCheck.problem(url, schemes: ["ws", "wss"]) {
            report(.haproxyFrontend, problem)
        }
        for directory in inventory.runbookDirectories where checkFiles && !fileExists(directory) {
            report(.runbooksDirs, "no such directory: \(directory)")
        }
        if checkFiles, let config = inventory.prometheusConfig, !fileExists(config) {
            report(.prometheusConfig, "no such file: \(config)")
        }
        if checkFiles, let config = inventory.haproxyConfig, !fileExists(config) {
            report(.haproxyConfig, "no such file: \(config)")
        }
        if let error = catching({ try inventory.redisAddress() }) {
            report(.redisAddr, error)
        }
        if let url = inventory.natsURL {
            for server in url.split(separator: ",") {
                if let problem = URLCheck.problem(String(server), schemes: ["nats", "tls", "ws", "wss"]) {
                    report(.natsURL, problem)
                }
            }
        }
        if let url = inventory.natsMonitorURL, let problem = URLCheck.problem(url, schemes: ["http", "https"]) {
            report(.natsMonitorURL, problem)
        }
        if let url = inventory.postgresURL, let error = catching({ try PostgresConnectionInfo(parsing: url) }) {
            report(.postgresURL, error)
        }
        // The same accessors the commands read them with: what passes here cannot fail there.
        for key in Inventory.durationKeys {
            if let error = catching({ try inventory.duration(key, default: .seconds(1)) }) { report(key, error) }
        }
        for key in Inventory.wholeNumberKeys {
            if let error = catching({ try inventory.integer(key, default: 0) }) { report(key, error) }
        }
        if let warn = try? inventory.duration(.backupWarnAge, default: Inventory.defaultWarnAge),
            let critical = try? inventory.duration(.backupCriticalAge, default: Inventory.defaultCriticalAge), critical <= warn {
            report(.backupCriticalAge, "backup.critical_age (\(critical.humanReadable)) must be longer than backup.warn_age (\(warn.humanReadable))")
        }
        for cert in inventory.certs where checkFiles {
            if !fileExists(cert.path) {
                report(.certs, "no such file: \(inventory.resolve(cert.path))", source: cert.source)
            } else if let error = catching({ try CertificateReader.read(path: inventory.resolve(cert.path)) }) {
                report(.certs, error, source: cert.source)
            }
        }
        return problems
    }


    private func catching<T>(_ body: () throws -> T) -> String? {
        do {
            _ = try body()
            return nil
        } catch let error as OpsError {
            return error.description
        } catch {
            return "\(error)"
        }
    }
}

/// Checks that a string is an absolute URL of an expected scheme with a host and a valid port.
public enum URLCheck {
    /// - Returns: what is wrong, or nil when the URL is fine.
    public static func problem(_ text: String, schemes: [String]) -> String? {
        let shown = Redactor.redactValue(text)
        let expected = "URL '\(shown)' must start with \(schemes.map { "\($0)://" }.joined(separator: " or "))"
        guard text.contains("://") else { return expected }
        guard let components = URLComponents(string: text.trimmingCharacters(in: .whitespaces)) else {
            return "malformed URL '\(shown)'"
        }
        guard let scheme = components.scheme?.lowercased(), schemes.contains(scheme) else { return expected }
        guard let host = components.host, !host.isEmpty else {
            return "URL '\(shown)' has no host"
        }
        if let port = components.port, !(1...65535).contains(port) {
            return "URL '\(shown)' has an invalid port"
        }
        return nil
    }
}
