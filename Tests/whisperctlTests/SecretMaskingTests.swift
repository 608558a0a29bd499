import Foundation
import OpsKit
import TestSupport
import Testing

/// A secret never prints, whether or not the value around it parses: every command that shows
/// configuration, human and JSON, on standard output and standard error.
@Suite struct SecretMaskingTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var yaml: String? = nil
        var dotenv: String? = nil
        var environment: [String: String] = [:]
        var secrets: [String]
    }

    static let cases: [Case] = [
        Case(description: "a misspelt scheme in .env", dotenv: "REDIS_ADDR=redis//:Sekret-One-1@127.0.0.1:6399\n", secrets: ["Sekret-One-1"]),
        Case(description: "an unknown scheme in .env", dotenv: "DATABASE_URL=mysql://whisper:Sekret-Two-2@db:5432/x\n", secrets: ["Sekret-Two-2"]),
        Case(description: "a password with spaces", dotenv: "DATABASE_URL=postgres://whisper:Sekret Three 3@127.0.0.1:1/x\n", secrets: ["Sekret Three 3", "Three 3"]),
        Case(description: "a NATS URL without its colon", environment: ["NATS_URL": "nats//user:Sekret-Four-4@127.0.0.1:4222"], secrets: ["Sekret-Four-4"]),
        Case(
            description: "a URL password, and a secret under a misspelt key",
            yaml: "redis:\n  addr: \"redis://:Sekret-Five-5@127.0.0.1:6399/0\"\n  pasword: Sekret-Six-6\n", secrets: ["Sekret-Five-5", "Sekret-Six-6"]),
        Case(
            description: "a libpq string with a quoted password", yaml: "postgres:\n  url: \"host=127.0.0.1 password='Sekret Seven 7' user=u\"\n",
            secrets: ["Sekret Seven 7", "Seven 7"]),
        Case(description: "a broken .env line holding a secret", dotenv: "POSTGRES_PASSWORD Sekret-Eight-8\nOK=1\n", secrets: ["Sekret-Eight-8"]),
        Case(description: "a NATS token", yaml: "nats:\n  url: nats://Sekret-Nine-9@127.0.0.1:4222\n", secrets: ["Sekret-Nine-9"]),
        Case(
            description: "a Redis password beside a malformed address", yaml: "redis:\n  addr: redis:/127.0.0.1\n",
            environment: ["REDIS_PASSWORD": "Sekret-Ten-10"], secrets: ["Sekret-Ten-10"]),
        Case(
            description: "a secret in .env used in a malformed YAML value",
            yaml: "postgres:\n  url: \"postgres//u:${PGPASS}@db\"\n", dotenv: "PGPASS=Sekret-Eleven-11\n", secrets: ["Sekret-Eleven-11"]),
    ]

    static let commands: [[String]] = [
        ["status", "--timeout", "300ms"], ["status", "--json", "--timeout", "300ms"], ["config", "show"], ["config", "show", "--json"],
        ["config", "check"], ["config", "check", "--json"],
    ]

    @Test(arguments: cases)
    func theSecretNeverPrints(_ scenario: Case) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        if let yaml = scenario.yaml { try directory.write("whisperctl.yml", yaml) }
        if let dotenv = scenario.dotenv { try directory.write(".env", dotenv) }
        for command in Self.commands {
            let run = try await WhisperctlBinary.run(command, environment: scenario.environment, in: directory)
            for secret in scenario.secrets {
                #expect(!run.stdout.contains(secret), "\(command) printed \(secret) on stdout:\n\(run.stdout)")
                #expect(!run.stderr.contains(secret), "\(command) printed \(secret) on stderr:\n\(run.stderr)")
            }
            #expect(!run.stdout.isEmpty || !run.stderr.isEmpty, "\(command) said nothing")
        }
    }
}

@Suite struct RedactorRulesTests {
    @Test func passwordsAreMaskedWhateverTheSyntax() {
        #expect(Redactor.redactURL("redis//:pw-1234@host:1") == "redis//:***@host:1")
        #expect(Redactor.redactURL("at nats://tok-1234@h:4222 now") == "at nats://***@h:4222 now")
        #expect(Redactor.redactURL("user:pw@host") == "user:***@host")
        #expect(Redactor.redactURL("secret: abcd1234 and token=xyz-99") == "secret: *** and token=***")
        #expect(Redactor.redactValue("postgres://u:pa ss@db/x") == "postgres://u:***@db/x")
        #expect(Redactor.redactURL("http://example.com/path") == "http://example.com/path")
        #expect(Redactor.redactURL("mail me at someone@example.com") == "mail me at someone@example.com")
        #expect(Redactor.secrets(inValue: "postgres://u:pa ss@db/x") == ["pa ss"])
        #expect(Redactor.isSecretName("POSTGRES_PASSWORD") && Redactor.isSecretName("api_key") && !Redactor.isSecretName("SSH_AUTH_SOCK"))
        // A restart block's start command: secret-named assignments, not only password=.
        #expect(Redactor.redactValue("env IP_HASH_SALT=pepper-9 API_TOKEN=t-1 LOG_LEVEL=info whisper-server")
            == "env IP_HASH_SALT=*** API_TOKEN=*** LOG_LEVEL=info whisper-server")
    }

    @Test func knownSecretsAreScrubbedAnywhere() {
        let registry = SecretRegistry()
        registry.registerValue("Sekret \"quoted\" 1", named: "DB_PASSWORD")
        #expect(registry.scrub("value Sekret \"quoted\" 1 here") == "value *** here")
        #expect(registry.scrub(#"{"v":"Sekret \"quoted\" 1"}"#) == #"{"v":"***"}"#, "the JSON-escaped form too")
        registry.register("ab")
        #expect(registry.scrub("ab cd") == "ab cd", "too short to be treated as a secret")
    }
}
