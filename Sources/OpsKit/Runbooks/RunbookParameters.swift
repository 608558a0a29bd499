import Foundation

/// A runbook's parameters with their values for one plan or run: given (`--param k=v`), else
/// the default; typed and checked (a server must be one of the inventory's). A secret's value is
/// read from where `from:` says, registered for masking everywhere, and recorded only as that
/// reference.
public struct RunbookParameters: Sendable {
    public var values: [String: RunbookValue]
    /// What a record stores: the value, or a secret's reference (`env:REDIS_PASSWORD`).
    public var recorded: [String: String]

    public struct Invalid: Error, CustomStringConvertible {
        public var problems: [String]
        public var description: String { problems.joined(separator: "\n") }
    }

    /// - Throws: `Invalid` with every problem: unknown names, missing values, wrong types.
    public static func resolve(
        _ runbook: Runbook, given: [String: String], inventory: Inventory, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> RunbookParameters {
        var problems: [String] = []
        var values: [String: RunbookValue] = [:]
        var recorded: [String: String] = [:]
        let declared = Set(runbook.parameters.map(\.name))
        for name in given.keys.sorted() where !declared.contains(name) {
            var message = "--param \(name): \(runbook.name) has no parameter '\(name)'"
            if let near = closestMatch(to: name, in: Array(declared)) { message += " (did you mean '\(near)'?)" }
            problems.append(message + (declared.isEmpty ? "; it takes none" : "; it takes \(declared.sorted().joined(separator: ", "))"))
        }
        let servers = inventory.servers.map(\.name)
        for parameter in runbook.parameters {
            if parameter.kind == .secret {
                if given[parameter.name] != nil {
                    problems.append("--param \(parameter.name): a secret is never given on the command line (the process table shows it); it comes from \(parameter.from ?? "from:")")
                    continue
                }
                guard let from = parameter.from else {
                    problems.append("\(parameter.name): a secret needs from: env:NAME or inventory:KEY")
                    continue
                }
                guard let secret = secretValue(from, inventory: inventory, environment: environment), !secret.isEmpty else {
                    problems.append("\(parameter.name): \(from) is not set")
                    continue
                }
                SecretRegistry.shared.register(secret)
                values[parameter.name] = .string(secret)
                recorded[parameter.name] = from
                continue
            }
            guard let text = given[parameter.name] ?? parameter.defaultValue else {
                problems.append("\(parameter.name) is required: --param \(parameter.name)=\(placeholder(parameter))" + (parameter.description.isEmpty ? "" : " (\(parameter.description))"))
                continue
            }
            if let problem = problem(text, for: parameter, servers: servers) {
                problems.append("--param \(parameter.name): \(problem)")
                continue
            }
            values[parameter.name] = typed(text, parameter.kind)
            recorded[parameter.name] = text
        }
        guard problems.isEmpty else { throw Invalid(problems: problems) }
        return RunbookParameters(values: values, recorded: recorded)
    }

    /// Why `text` is not a value of `parameter`, or nil. `servers` nil: not checked yet.
    static func problem(_ text: String, for parameter: Runbook.Parameter, servers: [String]?) -> String? {
        switch parameter.kind {
        case .string, .secret: return nil
        case .int: return Int(text) == nil ? "'\(text)' is not a whole number" : nil
        case .duration: return Duration(parsing: text) == nil ? "'\(text)' is not a duration (30s, 5m)" : nil
        case .bool: return ["true", "false"].contains(text) ? nil : "'\(text)' is not true or false"
        case .enum: return parameter.values.contains(text) ? nil : "'\(text)' is not one of \(parameter.values.joined(separator: ", "))"
        case .server:
            guard let servers, !servers.contains(text) else { return nil }
            var message = "no server '\(text)' in the inventory"
            if let near = closestMatch(to: text, in: servers) { message += " (did you mean '\(near)'?)" }
            return message + (servers.isEmpty ? "" : "; it has \(servers.joined(separator: ", "))")
        }
    }

    static func typed(_ text: String, _ kind: Runbook.Parameter.Kind) -> RunbookValue {
        switch kind {
        case .int: .number(Double(Int(text) ?? 0))
        case .duration: .number(Duration(parsing: text)?.seconds ?? 0)
        case .bool: .bool(text == "true")
        default: .string(text)
        }
    }

    private static func placeholder(_ parameter: Runbook.Parameter) -> String {
        switch parameter.kind {
        case .enum: parameter.values.joined(separator: "|")
        case .server: "SERVER"
        case .duration: "30s"
        case .int: "N"
        case .bool: "true|false"
        default: "VALUE"
        }
    }

    static func secretValue(_ reference: String, inventory: Inventory, environment: [String: String]) -> String? {
        if reference.hasPrefix("env:") { return environment[String(reference.dropFirst(4))] }
        if reference.hasPrefix("inventory:"), let key = ConfigKey(rawValue: String(reference.dropFirst("inventory:".count))) { return inventory.string(key) }
        return nil
    }
}
