import Foundation
import Yams

/// Reads `whisperctl.yml` into configuration values that remember their file and line.
package struct InventoryFile {
    let path: String
    /// Resolves `${VAR}`: the process environment first, then the `.env`.
    let variables: (String) -> String?
    /// The text being read, for error messages that point into it.
    private var text = ""

    init(path: String, variables: @escaping (String) -> String?) {
        self.path = path
        self.variables = variables
    }

    private init(path: String, variables: @escaping (String) -> String?, text: String) {
        self.path = path
        self.variables = variables
        self.text = text
    }

    /// - Returns: the values found and the problems that did not stop reading (unknown keys,
    ///   unset variables).
    /// - Throws: `ConfigError` for YAML syntax errors and values of the wrong shape.
    func read(text: String) throws -> (values: [ConfigKey: ConfigValue], diagnostics: [ConfigDiagnostic]) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError([InventoryFile(path: path, variables: variables, text: text).syntaxDiagnostic(error)])
        }
        var reader = NodeReader(path: path, variables: variables)
        guard let root else { return ([:], []) }
        guard case .mapping(let mapping) = root else {
            throw ConfigError([reader.diagnostic(at: root, field: nil, "the top level must be a mapping of settings")])
        }
        try reader.readTopLevel(mapping)
        // Every problem of the file at once, not the first: one missing url must not hide four typos.
        if reader.unusable { throw ConfigError(reader.diagnostics) }
        return (reader.values, reader.diagnostics)
    }

    private func lineHasTab(_ line: Int) -> Bool {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return line >= 1 && line <= lines.count && lines[line - 1].contains("\t")
    }

    private func syntaxDiagnostic(_ error: YamlError) -> ConfigDiagnostic {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if problem.contains("tab") || lineHasTab(mark.line) {
                message += " (YAML does not allow tabs for indentation: use spaces)"
            }
            return ConfigDiagnostic(.error, location: "\(path):\(mark.line):\(mark.column)", field: nil, message)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigDiagnostic(
                .error, location: "\(path):\(context.mark.line)", field: nil,
                "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", "))")
        case .reader(let problem, _, _, _):
            return ConfigDiagnostic(.error, location: path, field: nil, "cannot read YAML: \(problem)")
        default:
            return ConfigDiagnostic(.error, location: path, field: nil, "invalid YAML: \(error)")
        }
    }
}

/// Walks the YAML tree, checking shapes and collecting values with their lines.
private struct NodeReader {
    let path: String
    let variables: (String) -> String?
    var values: [ConfigKey: ConfigValue] = [:]
    var diagnostics: [ConfigDiagnostic] = []
    /// A problem the file cannot be used with (a server without a url): reading goes on to
    /// find the others, then fails with all of them.
    var unusable = false

    init(path: String, variables: @escaping (String) -> String?) {
        self.path = path
        self.variables = variables
    }

    func location(_ node: Node) -> String { "\(path):\(node.mark?.line ?? 0)" }
    func source(_ node: Node) -> ValueSource { .file(path: path, line: node.mark?.line ?? 0) }

    func diagnostic(at node: Node, field: String?, _ message: String) -> ConfigDiagnostic {
        ConfigDiagnostic(.error, location: location(node), field: field, message)
    }

    mutating func readTopLevel(_ mapping: Node.Mapping) throws {
        for (keyNode, valueNode) in mapping {
            let key = keyNode.string ?? ""
            switch key {
            case "deployment":
                try setScalar(.deployment, valueNode)
            case "servers":
                try readServers(valueNode)
            case "certs":
                try readPaths(.certs, valueNode, what: "PEM file paths")
            case "runbooks":
                try readRunbooks(valueNode)
            case "haproxy", "redis", "nats", "postgres", "audit", "lock", "migrations", "backup", "prometheus":
                try readSection(key, valueNode)
            default:
                unknownKey(key, at: keyNode, allowed: ConfigKey.topLevel, prefix: "", value: valueNode)
            }
        }
    }

    mutating func readSection(_ section: String, _ node: Node) throws {
        // `redis: ~` (or an empty section) switches the whole section off, defaults included.
        if case .scalar(let scalar) = node, scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" {
            for name in ConfigKey.sections[section] ?? [] {
                if let key = ConfigKey(rawValue: "\(section).\(name)") { values[key] = ConfigValue(.scalar(""), source: source(node)) }
            }
            return
        }
        guard case .mapping(let mapping) = node else {
            throw ConfigError([diagnostic(at: node, field: section, "expected a mapping")])
        }
        let allowed = ConfigKey.sections[section] ?? []
        for (keyNode, valueNode) in mapping {
            let name = keyNode.string ?? ""
            guard allowed.contains(name), let key = ConfigKey(rawValue: "\(section).\(name)") else {
                unknownKey(name, at: keyNode, allowed: allowed, prefix: "\(section).", value: valueNode)
                continue
            }
            try setScalar(key, valueNode)
        }
    }

    mutating func setScalar(_ key: ConfigKey, _ node: Node) throws {
        guard case .scalar(let scalar) = node else {
            throw ConfigError([diagnostic(at: node, field: key.rawValue, "expected a single value")])
        }
        // An explicit null (`~`) switches the setting off, defaults included.
        let text = node.null != nil ? "" : expand(scalar.string, at: node, field: key.rawValue)
        SecretRegistry.shared.registerValue(text, named: key.isSecret ? "password" : key.rawValue)
        values[key] = ConfigValue(.scalar(text), source: source(node))
    }

    mutating func readServers(_ node: Node) throws {
        guard case .sequence(let sequence) = node else {
            throw ConfigError([diagnostic(at: node, field: "servers", "expected a list of {name, url}")])
        }
        var entries: [ServerEntry] = []
        for (index, item) in sequence.enumerated() {
            let field = "servers[\(index)]"
            guard case .mapping(let mapping) = item else {
                diagnostics.append(diagnostic(at: item, field: field, "expected {name: ..., url: ...}"))
                unusable = true
                continue
            }
            var name: String?
            var url: String?
            var restart: RestartSpec?
            var logs: String?
            for (keyNode, valueNode) in mapping {
                let key = keyNode.string ?? ""
                if key == "restart" {
                    do { restart = try readRestart(valueNode, field: "\(field).restart") } catch let error as ConfigError {
                        diagnostics += error.diagnostics
                        unusable = true
                    }
                    continue
                }
                guard key == "name" || key == "url" || key == "logs" else {
                    unknownKey(key, at: keyNode, allowed: ["name", "url", "restart", "logs"], prefix: "\(field).", value: valueNode)
                    continue
                }
                guard case .scalar(let scalar) = valueNode else {
                    diagnostics.append(diagnostic(at: valueNode, field: "\(field).\(key)", "expected a single value"))
                    unusable = true
                    continue
                }
                let text = expand(scalar.string, at: valueNode, field: "\(field).\(key)")
                SecretRegistry.shared.registerValue(text)
                switch key {
                case "name": name = text
                case "url": url = text
                default:
                    do throws(LogSourceError) { _ = try LogSource(parsing: text) } catch {
                        diagnostics.append(diagnostic(at: valueNode, field: "\(field).logs", error.description))
                    }
                    logs = text
                }
            }
            var complete = true
            if name?.isEmpty ?? true {
                diagnostics.append(diagnostic(at: item, field: "\(field).name", "missing (the server's name in the HAProxy backend)"))
                complete = false
            }
            if url?.isEmpty ?? true {
                diagnostics.append(diagnostic(at: item, field: "\(field).url", "missing (e.g. http://10.0.0.5:8080)"))
                complete = false
            }
            guard complete, let name, let url else {
                unusable = true
                continue
            }
            entries.append(ServerEntry(name: name, url: url, source: source(item), restart: restart, logs: logs))
        }
        values[.servers] = ConfigValue(.servers(entries), source: source(node))
    }

    /// A server's `restart:` block: the driver and its settings, checked here so `config check`
    /// names the line of a block `rollout` could not use.
    mutating func readRestart(_ node: Node, field: String) throws -> RestartSpec? {
        if node.null != nil { return nil }
        guard case .mapping(let mapping) = node else {
            throw ConfigError([diagnostic(at: node, field: field, "expected {driver: process|command|systemd|compose|docker, ...}")])
        }
        var settings: [String: String] = [:]
        for (keyNode, valueNode) in mapping {
            let key = keyNode.string ?? ""
            guard RestartSpec.allKeys.contains(key) else {
                unknownKey(key, at: keyNode, allowed: RestartSpec.allKeys, prefix: "\(field).", value: valueNode)
                continue
            }
            guard case .scalar(let scalar) = valueNode else {
                throw ConfigError([diagnostic(at: valueNode, field: "\(field).\(key)", "expected a single value")])
            }
            settings[key] = expand(scalar.string, at: valueNode, field: "\(field).\(key)")
        }
        do {
            return try RestartSpec(settings: settings, source: source(node))
        } catch let problem as RestartSpec.Problem {
            throw ConfigError([diagnostic(at: node, field: problem.field.map { "\(field).\($0)" } ?? field, problem.message)])
        }
    }

    /// A list of paths (`certs`, `runbooks.dirs`), each with its line.
    mutating func readPaths(_ key: ConfigKey, _ node: Node, what: String) throws {
        let field = key.rawValue
        guard case .sequence(let sequence) = node else {
            throw ConfigError([diagnostic(at: node, field: field, "expected a list of \(what)")])
        }
        var paths: [(String, ValueSource)] = []
        for (index, item) in sequence.enumerated() {
            guard case .scalar(let scalar) = item else {
                throw ConfigError([diagnostic(at: item, field: "\(field)[\(index)]", "expected a path")])
            }
            paths.append((expand(scalar.string, at: item, field: "\(field)[\(index)]"), source(item)))
        }
        values[key] = ConfigValue(.list(paths), source: source(node))
    }

    /// `runbooks: {dirs: [...]}`.
    mutating func readRunbooks(_ node: Node) throws {
        guard case .mapping(let mapping) = node else { throw ConfigError([diagnostic(at: node, field: "runbooks", "expected a mapping (dirs: [...])")]) }
        for (keyNode, valueNode) in mapping {
            let name = keyNode.string ?? ""
            guard name == "dirs" else {
                unknownKey(name, at: keyNode, allowed: ["dirs"], prefix: "runbooks.", value: valueNode)
                continue
            }
            try readPaths(.runbooksDirs, valueNode, what: "directories")
        }
    }

    mutating func unknownKey(_ key: String, at node: Node, allowed: [String], prefix: String, value: Node? = nil) {
        // Not read, but maybe a secret under a misspelt key: it must not show anywhere either.
        if let text = value?.scalar?.string { SecretRegistry.shared.registerValue(text, named: key) }
        var message = "unknown key '\(prefix)\(key)'"
        if let suggestion = closestMatch(to: key, in: allowed) {
            message += " (did you mean '\(prefix)\(suggestion)'?)"
        }
        diagnostics.append(ConfigDiagnostic(.error, location: location(node), field: nil, message))
    }

    /// Expands `${VAR}` and `${VAR:-default}`; `$$` is a literal `$`.
    mutating func expand(_ text: String, at node: Node, field: String) -> String {
        guard text.contains("$") else { return text }
        var output = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("$") {
                output += "$"
                rest = after.dropFirst()
            } else if after.hasPrefix("{"), let close = after.firstIndex(of: "}") {
                let expression = after[after.index(after: after.startIndex)..<close]
                let parts = expression.split(separator: ":-", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                if let value = variables(name), !value.isEmpty {
                    output += value
                } else if parts.count == 2 {
                    output += parts[1]
                } else {
                    diagnostics.append(
                        ConfigDiagnostic(
                            .error, location: location(node), field: field,
                            "${\(name)} is not set in the environment or .env"))
                }
                rest = after[after.index(after: close)...]
            } else {
                output += "$"
                rest = after
            }
        }
        return output + rest
    }
}

/// The closest of `candidates` to `word`, when it is close enough to be a typo of it: the one
/// "did you mean" rule of config keys, commands and components.
public func closestMatch(to word: String, in candidates: [String]) -> String? {
    guard let best = candidates.min(by: { editDistance($0, word) < editDistance($1, word) }) else { return nil }
    return editDistance(best, word) <= max(2, max(best.count, word.count) / 2) ? best : nil
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
