/// Removes credentials from text before it reaches output, logs, errors or the audit log.
public enum Redactor {
    public static let mask = "***"

    /// Masks the password of every `scheme://user:password@host` URL in `text`,
    /// and `password=...` pairs of libpq key/value connection strings.
    public static func redactURL(_ text: String) -> String {
        redactKeywordPasswords(redactUserInfo(text))
    }

    private static func redactUserInfo(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let schemeEnd = rest.range(of: "://") {
            result += rest[..<schemeEnd.upperBound]
            rest = rest[schemeEnd.upperBound...]
            // The authority ends at the first '/', '?', '#' or whitespace; userinfo ends at its last '@'.
            let authorityEnd = rest.firstIndex { "/?# \t\n\"'".contains($0) } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                result += authority[...colon] + mask + authority[at...]
            } else {
                result += authority
            }
            rest = rest[authorityEnd...]
        }
        return result + rest
    }

    private static func redactKeywordPasswords(_ text: String) -> String {
        guard text.contains("password=") else { return text }
        var result = ""
        var rest = Substring(text)
        while let found = rest.range(of: "password=") {
            result += rest[..<found.upperBound] + mask
            rest = rest[found.upperBound...]
            if rest.first == "'" {
                // A quoted value runs to the next unescaped quote.
                var index = rest.index(after: rest.startIndex)
                while index < rest.endIndex, rest[index] != "'" {
                    index = rest[index] == "\\" ? rest.index(index, offsetBy: 2, limitedBy: rest.endIndex) ?? rest.endIndex : rest.index(after: index)
                }
                rest = index < rest.endIndex ? rest[rest.index(after: index)...] : rest[rest.endIndex...]
            } else {
                rest = rest[(rest.firstIndex { " &\t\n".contains($0) } ?? rest.endIndex)...]
            }
        }
        return result + rest
    }
}
