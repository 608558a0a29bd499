import Foundation
import NIOConcurrencyHelpers

/// Removes credentials from text before it reaches output, logs, errors or the audit log.
///
/// Masking never depends on a value parsing: a password is masked in a URL with an unknown or
/// misspelt scheme, with spaces in it, or with no scheme at all, and any value once known to be
/// secret (`SecretRegistry`) is masked wherever it appears.
public enum Redactor {
    public static let mask = "***"

    /// Masks URL passwords (`scheme://user:password@host`, also without `://`), NATS tokens
    /// (`nats://token@host`) and `password=` / `secret:`-style pairs in free text.
    public static func redactURL(_ text: String) -> String {
        redactSecretAssignments(redactKeywordPasswords(redactUserInfo(text)))
    }

    /// `NAME=value` words whose name is a secret's (`IP_HASH_SALT=...`, `API_TOKEN=...`), as
    /// shell commands in restart blocks and .env lines write them.
    private static func redactSecretAssignments(_ text: String) -> String {
        guard text.contains("=") else { return text }
        var words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        for (index, word) in words.enumerated() {
            guard let equals = word.firstIndex(of: "="), equals > word.startIndex else { continue }
            let name = word[..<equals]
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), isSecretName(String(name)),
                word[word.index(after: equals)...] != Substring(mask)
            else { continue }
            words[index] = name + "=" + mask
        }
        return words.joined(separator: " ")
    }

    /// A single configuration value, known to be whole: everything between the userinfo's first
    /// ':' and the value's last '@' is the password, spaces included.
    public static func redactValue(_ value: String) -> String {
        guard let password = passwordRange(inValue: value) else { return redactURL(value) }
        return redactURL(value.replacingCharacters(in: password, with: mask))
    }

    /// Every secret a configuration value carries: its URL password (or NATS token) and the
    /// values of its `password=`-style pairs.
    public static func secrets(inValue value: String) -> [String] {
        var found: [String] = []
        if let range = passwordRange(inValue: value) { found.append(String(value[range])) }
        var rest = Substring(value)
        while let (_, range) = firstKeyword(in: rest) {
            let valueEnd = endOfKeywordValue(rest[range.upperBound...])
            let secret = rest[range.upperBound..<valueEnd].trimmingCharacters(in: ["'", "\""])
            if !secret.isEmpty { found.append(secret) }
            rest = rest[valueEnd...]
        }
        return found
    }

    /// Variable and key names whose values are secret: *PASSWORD*, *PASSWD*, *SECRET*, *TOKEN*,
    /// *_KEY and KEY, whatever the case.
    public static func isSecretName(_ name: String) -> Bool {
        let upper = name.uppercased()
        return ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "SALT"].contains { upper.contains($0) }
            || upper == "KEY" || upper.hasSuffix("_KEY") || upper.hasSuffix("-KEY") || upper.hasSuffix(".KEY")
    }

    // MARK: Userinfo

    /// In one value: from the first ':' after the scheme separator (or the start) to the last '@'.
    private static func passwordRange(inValue value: String) -> Range<String.Index>? {
        guard let at = value.lastIndex(of: "@") else { return nil }
        let head = value[..<at]
        let afterScheme = head.range(of: "//").map(\.upperBound) ?? head.startIndex
        let userinfo = head[afterScheme...]
        if let colon = userinfo.firstIndex(of: ":") {
            let start = head.index(after: colon)
            return start < at ? start..<at : nil
        }
        // `nats://token@host`: a bare userinfo is a token for NATS.
        if head.lowercased().hasPrefix("nats") || head.lowercased().hasPrefix("tls"), !userinfo.isEmpty {
            return userinfo.startIndex..<at
        }
        return nil
    }

    /// Free text: for each '@', the word around it (up to whitespace, quotes or brackets) is
    /// treated as a possible URL, scheme or not.
    private static func redactUserInfo(_ text: String) -> String {
        guard text.contains("@") else { return text }
        var result = ""
        var rest = Substring(text)
        while let at = rest.firstIndex(of: "@") {
            let before = rest[..<at]
            let wordStart = before.lastIndex { " \t\n\"'<>()[]{},=".contains($0) }.map { before.index(after: $0) } ?? before.startIndex
            let word = before[wordStart...]
            let afterScheme = word.range(of: "//").map(\.upperBound) ?? word.startIndex
            let userinfo = word[afterScheme...]
            result += rest[..<wordStart]
            if let colon = userinfo.firstIndex(of: ":") {
                result += word[...colon] + mask
            } else if word.lowercased().hasPrefix("nats") || word.lowercased().hasPrefix("tls"), !userinfo.isEmpty {
                result += word[..<afterScheme] + mask
            } else {
                result += word
            }
            result += "@"
            rest = rest[rest.index(after: at)...]
        }
        return result + rest
    }

    // MARK: Keyword pairs

    private static let keywords = ["password", "passwd", "pwd", "secret", "token"]

    /// The first `password=`, `password:`, `secret=`... in `text` (case-insensitive), and where
    /// its separator ends.
    private static func firstKeyword(in text: Substring) -> (String, Range<String.Index>)? {
        let lower = text.lowercased()
        var best: (String, Range<String.Index>)?
        for keyword in keywords {
            for separator in ["=", ":", ": "] {
                guard let found = lower.range(of: keyword + separator) else { continue }
                let offset = lower.distance(from: lower.startIndex, to: found.lowerBound)
                let length = lower.distance(from: found.lowerBound, to: found.upperBound)
                let start = text.index(text.startIndex, offsetBy: offset)
                let range = start..<text.index(start, offsetBy: length)
                // `http://...` has "://": a URL's scheme is not a keyword pair.
                if separator == ":" || separator == ": ", text[range.upperBound...].hasPrefix("//") { continue }
                // The earliest; at the same place the longest separator (": " over ":").
                if let current = best?.1, current.lowerBound < range.lowerBound || (current.lowerBound == range.lowerBound && current.upperBound >= range.upperBound) {
                    continue
                }
                best = (keyword, range)
            }
        }
        return best
    }

    /// A keyword's value ends at whitespace, '&' or ',' unless quoted.
    private static func endOfKeywordValue(_ rest: Substring) -> String.Index {
        guard let quote = rest.first, quote == "'" || quote == "\"" else {
            return rest.firstIndex { " &,\t\n".contains($0) } ?? rest.endIndex
        }
        var index = rest.index(after: rest.startIndex)
        while index < rest.endIndex, rest[index] != quote {
            index = rest[index] == "\\" ? rest.index(index, offsetBy: 2, limitedBy: rest.endIndex) ?? rest.endIndex : rest.index(after: index)
        }
        return index < rest.endIndex ? rest.index(after: index) : rest.endIndex
    }

    private static func redactKeywordPasswords(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let (_, range) = firstKeyword(in: rest) {
            result += rest[..<range.upperBound] + mask
            rest = rest[endOfKeywordValue(rest[range.upperBound...])...]
        }
        return result + rest
    }
}

/// Values known to be secret in this process: from the inventory, the `.env`, the environment
/// and the server's configuration. Whatever text they turn up in (an error quoting a malformed
/// value, a third-party message), `scrub` masks them.
public final class SecretRegistry: Sendable {
    public static let shared = SecretRegistry()

    /// Shorter values are not treated as secrets: masking every "ab" would mangle the output.
    static let minimumLength = 4
    private let secrets = NIOLockedValueBox<[String]>([])

    public init() {}

    public func register(_ secret: String) {
        let trimmed = secret.trimmingCharacters(in: [" ", "\t", "\n", "\r"])
        guard trimmed.count >= Self.minimumLength else { return }
        // As it is, and as JSON output would escape it.
        let variants = Set([trimmed, JSONValue.escaped(trimmed)])
        secrets.withLockedValue { list in
            for variant in variants where !list.contains(variant) { list.append(variant) }
            list.sort { $0.count > $1.count }
        }
    }

    /// Registers the secrets a configuration value carries (see `Redactor.secrets(inValue:)`), or
    /// the whole value when its name says it is one.
    public func registerValue(_ value: String, named name: String? = nil) {
        if let name, Redactor.isSecretName(name) { register(value) }
        for secret in Redactor.secrets(inValue: value) { register(secret) }
    }

    /// Masks URL passwords and every registered secret in `text`.
    public func scrub(_ text: String) -> String {
        var result = Redactor.redactURL(text)
        for secret in secrets.withLockedValue({ $0 }) where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: Redactor.mask)
        }
        return result
    }
}
