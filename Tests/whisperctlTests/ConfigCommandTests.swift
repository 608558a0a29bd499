import Foundation
import OpsKit
import TestSupport
import Testing

@Suite struct ConfigCommandTests {
    @Test func showNamesWhereEachValueCameFrom() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: prod\nredis:\n  addr: 10.0.0.3:6379\n  password: ${REDIS_PASSWORD}\n")
        try directory.write(".env", "REDIS_PASSWORD=dotenv-Secret-5\nNATS_URL=nats://10.0.0.4:4222\n")
        let run = try await WhisperctlBinary.run(
            ["config", "show", "--json", "--haproxy-stats", "http://10.0.0.2:8404/haproxy/stats"],
            environment: ["DATABASE_URL": "postgres://u:env-Secret-6@db:5432/whisper"], in: directory)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.contains("dotenv-Secret-5") && !run.stdout.contains("env-Secret-6"))
        let document = try JSONValue.parse(Array(run.stdout.utf8))
        #expect(document["config_file"] == .string("whisperctl.yml"))
        #expect(document["dotenv_file"] == .string(".env"))
        guard case .array(let settings)? = document["settings"] else {
            Issue.record("no settings")
            return
        }
        var origin: [String: String] = [:]
        var value: [String: JSONValue] = [:]
        for setting in settings {
            let key = setting["key"]?.stringValue ?? ""
            origin[key] = setting["source"]?["origin"]?.stringValue
            value[key] = setting["value"]
        }
        #expect(origin["deployment"] == "whisperctl.yml:1")
        #expect(origin["redis.addr"] == "whisperctl.yml:3")
        #expect(origin["redis.password"] == "whisperctl.yml:4")
        #expect(value["redis.password"] == .string("***"))
        #expect(origin["nats.url"] == ".env:2")
        #expect(origin["postgres.url"] == "env DATABASE_URL")
        #expect(value["postgres.url"] == .string("postgres://u:***@db:5432/whisper"))
        #expect(origin["haproxy.stats_url"] == "flag --haproxy-stats")
        #expect(origin["nats.monitor_url"] == nil, "the inventory names NATS by its URL only")
        #expect(document["not_configured"]?.arrayValue?.contains(.string("nats.monitor_url")) == true)
    }

    @Test func checkReportsProblemsWithFileAndLineAndExitCodes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: x\nredis:\n  address: 10.0.0.1:6379\nservers:\n  - name: ws1\n    url: notaurl\n")
        let bad = try await WhisperctlBinary.run(["config", "check"], in: directory)
        #expect(bad.status == 2)
        #expect(bad.stdout.contains("whisperctl.yml:3: error: unknown key 'redis.address' (did you mean 'redis.addr'?)"))
        #expect(bad.stdout.contains("whisperctl.yml:5: error: servers: server 'ws1': URL 'notaurl' must start with http:// or https://"))
        let json = try await WhisperctlBinary.run(["config", "check", "--json"], in: directory)
        #expect(json.status == 2)
        #expect(try JSONValue.parse(Array(json.stdout.utf8))["valid"] == .bool(false))

        try directory.write("whisperctl.yml", "deployment: x\n")
        let good = try await WhisperctlBinary.run(["config", "check"], in: directory)
        #expect(good.status == 0, "\(good.stdout)")
        #expect(good.stdout.contains("whisperctl.yml: OK"))

        try directory.write("whisperctl.yml", "deployment: x\nservers: []\n")
        #expect(try await WhisperctlBinary.run(["config", "check"], in: directory).status == 1)

        try directory.write("whisperctl.yml", "deployment: [x\n")
        let broken = try await WhisperctlBinary.run(["config", "check"], in: directory)
        #expect(broken.status == 2)
        #expect(broken.stdout.contains("whisperctl.yml:"))
    }

    @Test func versionAndUsageErrors() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let version = try await WhisperctlBinary.run(["--version"], in: directory)
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("whisperctl \(BuildInfo.version) (commit "), "\(version.stdout)")
        let usage = try await WhisperctlBinary.run(["status", "--timeout", "soon"], in: directory)
        #expect(usage.status == 64)
        let server = try await WhisperctlBinary.run(["status", "--server", "no-equals-sign"], in: directory)
        #expect(server.status == 64)
        #expect(server.stderr.contains("--server expects NAME=URL"))
    }
}

@Suite struct CompletionScriptTests {
    /// completions/ is generated from the argument parser; this keeps the committed scripts current.
    @Test(arguments: ["bash", "zsh", "fish"])
    func committedScriptMatchesTheParser(shell: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let run = try await WhisperctlBinary.run(["--generate-completion-script", shell], in: directory)
        #expect(run.status == 0)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let committed = try String(contentsOf: root.appendingPathComponent("completions/whisperctl.\(shell)"), encoding: .utf8)
        #expect(run.stdout == committed, "regenerate with: whisperctl --generate-completion-script \(shell) > completions/whisperctl.\(shell)")
    }
}
