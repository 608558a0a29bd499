import Yams

/// Reads a YAML document loosely, as Compose and Kubernetes files are written: mappings with
/// string keys, scalars that may be numbers or booleans, merge keys (`<<: *anchor`) resolved.
enum YAMLTree {
    static func mapping(_ value: Any?) -> [String: Any]? {
        if let mapping = value as? [String: Any] { return mapping }
        guard let mapping = value as? [AnyHashable: Any] else { return nil }
        var result: [String: Any] = [:]
        for (key, item) in mapping { result["\(key.base)"] = item }
        return result
    }

    static func list(_ value: Any?) -> [Any] { value as? [Any] ?? [] }

    static func string(_ value: Any?) -> String? {
        switch value {
        case let text as String: text
        case let number as Int: String(number)
        case let number as Double: String(number)
        case let flag as Bool: String(flag)
        default: nil
        }
    }

    /// true, "true", yes: what the file means by switching a setting on.
    static func isTrue(_ value: Any?) -> Bool {
        if let flag = value as? Bool { return flag }
        return ["true", "yes", "on"].contains(string(value)?.lowercased() ?? "")
    }

    static func path(_ value: Any?, _ keys: String...) -> Any? {
        var current = value
        for key in keys { current = mapping(current)?[key] }
        return current
    }

    /// Every document of a file (Kubernetes files hold several).
    static func documents(_ text: String) throws -> [Any] {
        var budget = nodeBudget
        return try Yams.compose_all(yaml: text).map { try tree($0, budget: &budget) }
    }

    /// One document.
    static func document(_ text: String) throws -> Any? {
        var budget = nodeBudget
        return try Yams.compose(yaml: text).map { try tree($0, budget: &budget) }
    }

    /// Aliases can make a small file a huge tree (a billion laughs): past this many nodes it is refused.
    static let nodeBudget = 200_000

    struct TooLarge: Error, CustomStringConvertible {
        var description: String { "more than \(YAMLTree.nodeBudget) values once its aliases are expanded" }
    }

    /// Mappings with string keys (others skipped), lists, and every scalar as its text;
    /// `<<` merges what it names underneath the mapping's own keys, as Compose does.
    private static func tree(_ node: Node, budget: inout Int) throws -> Any {
        budget -= 1
        guard budget >= 0 else { throw TooLarge() }
        switch node {
        case .scalar(let scalar):
            return scalar.string
        case .sequence(let sequence):
            return try sequence.map { try tree($0, budget: &budget) }
        case .mapping(let mapping):
            var result: [String: Any] = [:]
            for (key, value) in mapping where key.scalar?.string == "<<" {
                let merged = value.sequence.map(Array.init) ?? [value]
                for source in merged {
                    for (name, item) in YAMLTree.mapping(try tree(source, budget: &budget)) ?? [:] { result[name] = item }
                }
            }
            for (key, value) in mapping {
                guard let name = key.scalar?.string, name != "<<" else { continue }
                result[name] = try tree(value, budget: &budget)
            }
            return result
        case .alias:
            return ""
        }
    }
}
