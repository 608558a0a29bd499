import Foundation
import OpsKit
import TestSupport
import Testing

/// `whisperctl status` end to end: the real binary against real services.
@Suite struct StatusCommandTests {
    func components(_ run: ProgramRun) throws -> [String: JSONValue] {
        let document = try JSONValue.parse(Array(run.stdout.utf8))
        guard case .array(let items)? = document["components"] else { throw SupportError("no components in \(run.stdout)") }
        var byName: [String: JSONValue] = [:]
        for item in items { byName[item["name"]?.stringValue ?? ""] = item }
        return byName
    }

    @Test func aHealthyStackIsOKWithEveryComponentReported() async throws {
        try await withService({ try await LocalStack.start() }) { stack in
            let (pem, _) = try CertificateFactory.selfSigned(commonName: "chat.example.com", expiresIn: 200 * 86_400)
            let cert = try stack.directory.write("whisper.pem", pem)
            try stack.writeConfig(certs: [cert])
            let env = ["DATABASE_URL": stack.postgres.url]
            let json = try await WhisperctlBinary.run(["status", "--json"], environment: env, in: stack.directory)
            #expect(json.status == 0, "\(json.stdout)\n\(json.stderr)")
            let document = try JSONValue.parse(Array(json.stdout.utf8))
            #expect(document["overall"] == .string("ok"))
            #expect(document["deployment"] == .string("test-stack"))
            #expect(document["checked_at"]?.stringValue?.hasSuffix("Z") == true)
            let byName = try components(json)
            #expect(Set(byName.keys) == ["ws1", "ws2", "haproxy", "redis", "nats", "postgres", "cert whisper.pem"])
            for (name, component) in byName {
                #expect(component["status"] == .string("ok"), "\(name): \(component.serialized())")
                #expect(component["kind"] != nil && component["detail"] != nil && component["latency_ms"] != nil)
            }
            #expect(byName["ws1"]?["connections"] == .int(10))
            #expect(byName["haproxy"]?["servers"].map { if case .array(let s) = $0 { s.count } else { 0 } } == 2)
            #expect(byName["redis"]?["match_queue_depth"] == .int(0))
            #expect(byName["redis"]?["role"] == .string("master"))
            #expect(byName["postgres"]?["server_version"]?.stringValue?.isEmpty == false)
            #expect(byName["cert whisper.pem"]?["days_left"] == .int(199) || byName["cert whisper.pem"]?["days_left"] == .int(200))

            let table = try await WhisperctlBinary.run(["status"], environment: env, in: stack.directory)
            #expect(table.status == 0)
            #expect(table.stdout.hasPrefix("test-stack: OK"))
            #expect(table.stdout.contains("COMPONENT"))
            #expect(!table.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
        }
    }

    @Test func redisKilledMidRunIsCriticalAndNamesTheAddress() async throws {
        try await withService({ try await LocalStack.start() }) { stack in
            try stack.writeConfig()
            let env = ["DATABASE_URL": stack.postgres.url]
            let before = try await WhisperctlBinary.run(["status", "--json"], environment: env, in: stack.directory)
            #expect(try components(before)["redis"]?["status"] == .string("ok"))
            stack.redis.process.kill9()
            let after = try await WhisperctlBinary.run(["status", "--json"], environment: env, in: stack.directory)
            #expect(after.status == 2)
            let redis = try #require(try components(after)["redis"])
            #expect(redis["status"] == .string("critical"))
            #expect(redis["detail"] == .string("connection refused at \(stack.redis.address)"))
            #expect(try components(after)["nats"]?["status"] == .string("ok"))
        }
    }

    @Test func aServerWhoseReadyAnswers503IsAWarning() async throws {
        try await withService({ try await LocalStack.start() }) { stack in
            try stack.writeConfig()
            stack.servers[1].set("/ready", .init(status: 503, body: #"{"ready":false}"#))
            let run = try await WhisperctlBinary.run(["status", "--json"], environment: ["DATABASE_URL": stack.postgres.url], in: stack.directory)
            let ws2 = try #require(try components(run)["ws2"])
            #expect(ws2["status"] == .string("warning"))
            #expect(ws2["ready"] == .bool(false))
            #expect(ws2["detail"]?.stringValue?.contains("not ready (HTTP 503)") == true)
            // HAProxy checks /ready too, so it takes ws2 out: the run is a warning overall.
            #expect(run.status == 1, "\(run.stdout)")
        }
    }

    @Test func anHAProxyBackendServerDownIsReported() async throws {
        try await withService({ try await LocalStack.start() }) { stack in
            try stack.writeConfig()
            await stack.servers[1].stop()
            try await stack.haproxy.waitFor(.down, servers: ["ws2"])
            let run = try await WhisperctlBinary.run(["status", "--json"], environment: ["DATABASE_URL": stack.postgres.url], in: stack.directory)
            let haproxy = try #require(try components(run)["haproxy"])
            #expect(haproxy["status"] == .string("warning"))
            #expect(haproxy["detail"]?.stringValue?.hasPrefix("1/2 serving") == true)
            #expect(haproxy["detail"]?.stringValue?.contains("ws2 DOWN") == true)
            #expect(try components(run)["ws2"]?["status"] == .string("critical"))
            #expect(run.status == 2)
        }
    }

    @Test func oneHungEndpointAmongTwentyCostsOneTimeoutNotTwenty() async throws {
        try await withService({ try BlackHoleServer() }) { hole in
            try await withService({ try await FixtureHTTPServer.start(routes: FixtureHTTPServer.healthyServerRoutes()) }) { server in
                let directory = try TemporaryDirectory()
                defer { directory.remove() }
                var arguments = ["status", "--json", "--timeout", "1s", "--redis", hole.address]
                for index in 1...19 { arguments += ["--server", "ws\(index)=\(server.url)"] }
                arguments += ["--server", "hung=\(hole.url)"]
                try directory.write("whisperctl.yml", "haproxy:\n  stats_url: ~\nnats:\n  monitor_url: ~\npostgres:\n  url: ~\n")
                let run = try await WhisperctlBinary.run(arguments, in: directory)
                let byName = try components(run)
                #expect(byName["hung"]?["status"] == .string("critical"))
                // The client's own timeout or the runner's bound, whichever reports first under load.
                #expect(byName["hung"]?["detail"]?.stringValue?.hasPrefix("timed out after 1 s at \(hole.url)") == true)
                #expect(byName["redis"]?["detail"] == .string("timed out after 1 s at \(hole.address)"))
                for index in 1...19 { #expect(byName["ws\(index)"]?["status"] == .string("ok")) }
                #expect(run.status == 2)
                // Probes run concurrently: 21 probes with a 1 s limit must not take anywhere near 21 s.
                #expect(run.elapsed < .seconds(5), "took \(run.elapsed)")
            }
        }
    }

    @Test func expiredAndSoonExpiringCertificates() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let expired = try directory.write("expired.pem", try CertificateFactory.selfSigned(commonName: "old", expiresIn: -2 * 86_400).certificate)
        let soon = try directory.write("soon.pem", try CertificateFactory.selfSigned(commonName: "soon", expiresIn: 12 * 86_400).certificate)
        try directory.write("whisperctl.yml", """
            servers: []
            haproxy: {stats_url: ~}
            redis: {addr: ~}
            nats: {monitor_url: ~}
            postgres: {url: ~}
            certs: [\(expired), \(soon)]
            """)
        let run = try await WhisperctlBinary.run(["status", "--json"], in: directory)
        let byName = try components(run)
        #expect(byName["cert expired.pem"]?["status"] == .string("critical"))
        #expect(byName["cert expired.pem"]?["detail"]?.stringValue?.hasPrefix("expired 2 days ago") == true)
        #expect(byName["cert soon.pem"]?["status"] == .string("warning"))
        #expect(byName["cert soon.pem"]?["days_left"] == .int(11) || byName["cert soon.pem"]?["days_left"] == .int(12))
        #expect(run.status == 2)
    }

    @Test func aMalformedConfigIsUnknownWithFileAndLine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "deployment: x\nredis:\n  addr: [unclosed\n")
        let run = try await WhisperctlBinary.run(["status"], in: directory)
        #expect(run.status == 3)
        #expect(run.stderr.contains("whisperctl.yml:"), "\(run.stderr)")
        #expect(run.stderr.contains("invalid YAML"))
        let json = try await WhisperctlBinary.run(["status", "--json"], in: directory)
        #expect(json.status == 3)
        #expect(try JSONValue.parse(Array(json.stdout.utf8))["overall"] == .string("unknown"))
        let missing = try await WhisperctlBinary.run(["status", "--config", "/nonexistent/w.yml"], in: directory)
        #expect(missing.status == 3)
        #expect(missing.stderr.contains("/nonexistent/w.yml: error: no such file"))
    }

    @Test func aDatabasePasswordIsNeverPrinted() async throws {
        try await withService({ try await PostgresServer.start() }) { pg in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try directory.write("whisperctl.yml", "servers: []\nhaproxy: {stats_url: ~}\nredis: {addr: ~}\nnats: {monitor_url: ~}\n")
            let good = ["DATABASE_URL": pg.url]
            let wrong = ["DATABASE_URL": "postgres://whisper:Wrong-Pass-31@127.0.0.1:\(pg.port)/whisper?sslmode=disable"]
            let runs = [
                try await WhisperctlBinary.run(["status"], environment: good, in: directory),
                try await WhisperctlBinary.run(["status", "--json"], environment: good, in: directory),
                try await WhisperctlBinary.run(["status", "--json"], environment: wrong, in: directory),
                try await WhisperctlBinary.run(["config", "show"], environment: good, in: directory),
                try await WhisperctlBinary.run(["config", "show", "--json"], environment: wrong, in: directory),
                try await WhisperctlBinary.run(["config", "check"], environment: good, in: directory),
            ]
            #expect(runs[0].status == 0, "\(runs[0].stdout)")
            #expect(try components(runs[2])["postgres"]?["status"] == .string("critical"))
            for run in runs {
                for secret in [PostgresServer.appPassword, "Wrong-Pass-31"] {
                    #expect(!run.stdout.contains(secret) && !run.stderr.contains(secret))
                }
            }
            #expect(runs[3].stdout.contains("postgres://whisper:***@127.0.0.1:\(pg.port)/whisper"))
        }
    }

    @Test func watchRedrawsUntilInterrupted() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "servers: []\nhaproxy: {stats_url: ~}\nnats: {monitor_url: ~}\npostgres: {url: ~}\nredis: {addr: ~}\ncerts: [\(directory.file("c.pem"))]\n")
        try directory.write("c.pem", try CertificateFactory.selfSigned(commonName: "w", expiresIn: 100 * 86_400).certificate)
        let run = try await WhisperctlBinary.run(["status", "--json", "--watch", "1"], in: directory, interruptAfter: .milliseconds(2500))
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count >= 2, "\(run.stdout)")
        for line in lines { #expect(try JSONValue.parse(Array(line.utf8))["overall"] == .string("ok")) }
        #expect(run.status == 0)
    }
}

/// The command-line conventions of issue-free operation: names, global options, watch, typos.
@Suite struct StatusConventionTests {
    func directoryWithRedis(_ redis: RedisServer) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try directory.write(
            "whisperctl.yml",
            "deployment: conv\nservers: [{name: ws1, url: \"http://127.0.0.1:1\"}]\nhaproxy: {stats_url: ~}\nnats: {monitor_url: ~}\npostgres: {url: ~}\nredis: {addr: \"\(redis.address)\"}\n")
        return directory
    }

    @Test func namedComponentsAreTheOnlyOnesProbed() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let directory = try directoryWithRedis(redis)
            defer { directory.remove() }
            let run = try await WhisperctlBinary.run(["status", "redis", "--json"], in: directory)
            #expect(run.status == 0, "ws1 (nothing listening) is not probed: \(run.stdout)")
            let names = try JSONValue.parse(Array(run.stdout.utf8))["components"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(names == ["redis"])
            let unknown = try await WhisperctlBinary.run(["status", "reddis"], in: directory)
            #expect(unknown.status == 64)
            #expect(unknown.stderr.contains("no component named reddis") && unknown.stderr.contains("redis"), "\(unknown.stderr)")
        }
    }

    @Test func inventoryOptionsWorkBeforeAndAfterTheSubcommand() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let directory = try directoryWithRedis(redis)
            defer { directory.remove() }
            try directory.write("elsewhere.yml", try String(contentsOfFile: directory.file("whisperctl.yml"), encoding: .utf8))
            try FileManager.default.removeItem(atPath: directory.file("whisperctl.yml"))
            let before = try await WhisperctlBinary.run(["--config", "elsewhere.yml", "status", "redis", "--json"], in: directory)
            let after = try await WhisperctlBinary.run(["status", "redis", "--json", "--config", "elsewhere.yml"], in: directory)
            for run in [before, after] {
                #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
                #expect(try JSONValue.parse(Array(run.stdout.utf8))["deployment"] == .string("conv"))
            }
            let show = try await WhisperctlBinary.run(["--config=elsewhere.yml", "config", "show"], in: directory)
            #expect(show.stdout.contains("elsewhere.yml"), "\(show.stdout)")
        }
    }

    @Test func aTypoInTheConfigurationStopsInsteadOfProbingDefaults() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("whisperctl.yml", "nats:\n  monitor_ur: http://10.0.0.4:8222\nredis:\n  adr: h:1\n")
        let run = try await WhisperctlBinary.run(["status"], in: directory)
        #expect(run.status == 3)
        #expect(run.stderr.contains("whisperctl.yml:2: error: unknown key 'nats.monitor_ur' (did you mean 'nats.monitor_url'?)"), "\(run.stderr)")
        #expect(run.stderr.contains("whisperctl.yml:4: error: unknown key 'redis.adr'"), "every problem, not only the first")
        let json = try await WhisperctlBinary.run(["status", "--json"], in: directory)
        let document = try JSONValue.parse(Array(json.stdout.utf8))
        #expect(document["overall"] == .string("unknown"))
        #expect(document["problems"]?.arrayValue?.count == 2)
        #expect(document["components"] == .array([]), "nothing probed")
        let check = try await WhisperctlBinary.run(["config", "check"], in: directory)
        #expect(check.stdout.contains("whisperctl.yml: 2 error(s)"), "\(check.stdout)")
        try directory.write("whisperctl.yml", "deployment: [broken\n")
        let broken = try await WhisperctlBinary.run(["config", "check"], in: directory)
        #expect(broken.stdout.contains("whisperctl.yml: 1 error(s)"), "the file read is named even when it does not parse: \(broken.stdout)")
    }

    @Test func watchShowsChangesAndRestoresTheTerminalOnSIGTERM() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let directory = try directoryWithRedis(redis)
            defer { directory.remove() }
            Task {
                try await Task.sleep(for: .milliseconds(1200))
                await redis.kill()
            }
            // Room for the kill to land on a busy machine before SIGTERM ends the watch.
            let run = try await WhisperctlBinary.run(["status", "redis", "--watch", "400ms"], in: directory, interruptAfter: .seconds(6), signal: SIGTERM)
            #expect(run.status == 2, "exits with the last verdict: \(run.stdout)")
            #expect(run.stdout.contains("SINCE"), "when each component last changed")
            #expect(run.stdout.contains("changed: redis OK → CRITICAL"), "\(run.stdout)")
            #expect(run.stdout.contains("no change since the last refresh"))
        }
    }
}
