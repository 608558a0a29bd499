import Foundation

/// A `.env` file in the deployment's own format: `KEY=value` lines, `#` comments, optional
/// `export ` prefix, single or double quotes.
public struct DotEnv: Sendable {
    public struct Entry: Sendable, Equatable {
        public var value: String
        public var line: Int
    }

    public let path: String
    public let entries: [String: Entry]

    /// Reads `path`; nil when there is no such file.
    /// - Parameter displayPath: how errors name the file (the path as the user knows it).
    public static func load(path: String, displayPath: String? = nil) throws -> DotEnv? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError([ConfigDiagnostic(.error, location: displayPath ?? path, field: nil, "cannot read file")])
        }
        return try DotEnv(path: displayPath ?? path, text: String(decoding: data, as: UTF8.self))
    }

    /// - Throws: `ConfigError` naming every bad line (not only the first), with file:line.
    public init(path: String, text: String) throws {
        self.path = path
        var entries: [String: Entry] = [:]
        var problems: [ConfigDiagnostic] = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "=") else {
                // The line may hold a secret the author meant to assign: never quote it.
                problems.append(ConfigDiagnostic(.error, location: "\(path):\(offset + 1)", field: nil, "expected KEY=value"))
                continue
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = DotEnv.unquote(line[line.index(after: equals)...])
            SecretRegistry.shared.registerValue(value, named: key)
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                problems.append(ConfigDiagnostic(.error, location: "\(path):\(offset + 1)", field: nil, "invalid variable name '\(Redactor.redactURL(key))'"))
                continue
            }
            entries[key] = Entry(value: value, line: offset + 1)
        }
        guard problems.isEmpty else { throw ConfigError(problems) }
        self.entries = entries
    }

    private static func unquote(_ raw: Substring) -> String {
        let value = raw.trimmingCharacters(in: .whitespaces)
        if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
            let inner = String(value.dropFirst().dropLast())
            return quote == "\"" ? inner.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\\"", with: "\"") : inner
        }
        // An unquoted value ends at " #" (an inline comment).
        if let comment = value.range(of: " #") { return value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces) }
        return value
    }
}
