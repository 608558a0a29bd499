import Foundation

/// Whether a value given to a secret is one an attacker would try first. Only the shape of the
/// value is ever described (a placeholder, a default, its length), never the value itself.
public enum SecretJudgement {
    /// Text that marks a value nobody replaced.
    static let placeholderMarks = ["change_me", "changeme", "change-me", "replace_me", "replaceme", "placeholder", "your_password", "todo", "xxxx"]
    /// Values shipped as defaults somewhere in the stack (HAProxy's stats example, Grafana's admin).
    static let knownDefaults: Set<String> = [
        "admin", "password", "secret", "whisper_haproxy_stats", "redis", "postgres", "grafana", "123456", "changeit", "letmein", "whisper",
    ]
    /// The guide asks for 32+ random characters.
    public static let minimumLength = 32

    /// Names that hold secrets (as output redaction knows them), except those naming a file.
    public static func isSecretName(_ name: String) -> Bool {
        !name.uppercased().hasSuffix("_FILE") && Redactor.isSecretName(name)
    }

    /// nil when the value is acceptable; otherwise how bad it is and a description without the value.
    public static func judge(_ value: String) -> (severity: Finding.Severity, problem: String)? {
        let lower = value.lowercased()
        if value.isEmpty { return (.critical, "is empty") }
        if let mark = placeholderMarks.first(where: { lower.contains($0) }) {
            return (.critical, "is still a placeholder (contains \(mark.uppercased()))")
        }
        if knownDefaults.contains(lower) { return (.critical, "is a well-known default") }
        if value.count < minimumLength { return (.warning, "is \(value.count) characters long, shorter than \(minimumLength)") }
        if Set(value).count < 6 { return (.warning, "repeats too few characters to be random") }
        return nil
    }

    static let fix = "openssl rand -base64 32 | tr -d '/+=' : a new random value, then restart what reads it"
}
