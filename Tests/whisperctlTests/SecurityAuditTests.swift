import Foundation
import OpsKit
import Testing
import TestSupport

/// `whisperctl audit` against a deliberately insecure deployment (Tests/Fixtures/audit/insecure:
/// a real HAProxy accepting TLS 1.0 with the default stats password, Redis with no password,
/// PostgreSQL made to trust network logins, a Compose file and manifests missing every
/// hardening) and against the shipped production files, which must pass.
@Suite struct SecurityAuditTests {
    static let fixture = Repository.path("Tests/Fixtures/audit/insecure")

    /// id → severity, and the whole output for secret checks.
    static func audit(_ arguments: [String], in directory: TemporaryDirectory, environment: [String: String] = [:]) async throws -> (ProgramRun, [String: String]) {
        let run = try await WhisperctlBinary.run(["audit", "--json"] + arguments, environment: environment, in: directory)
        let findings = try JSONValue.parse(Array(run.stdout.utf8))["findings"]?.arrayValue ?? []
        var severities: [String: String] = [:]
        let rank = ["critical": 0, "warning": 1, "unknown": 2, "info": 3, "ok": 4]
        for finding in findings {
            guard let id = finding["id"]?.stringValue, let severity = finding["severity"]?.stringValue else { continue }
            // The worst of an id's findings (one per server, per file).
            if let known = severities[id], rank[known, default: 9] <= rank[severity, default: 9] { continue }
            severities[id] = severity
        }
        return (run, severities)
    }

    static func randomSecret() -> String {
        String((0..<40).map { _ in "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789".randomElement()! })
    }

    @Test func anInsecureDeploymentIsFoundWithEveryFix() async throws {
        let directory = try TemporaryDirectory(prefix: "whisper-audit-insecure")
        defer { directory.remove() }
        for name in ["docker-compose.yml", "Dockerfile", "k8s"] {
            try Command.run("/bin/cp", ["-a", Self.fixture + "/" + name, directory.file(name)])
        }
        let env = try String(contentsOfFile: Self.fixture + "/env", encoding: .utf8)
        _ = try directory.write(".env", env)
        chmod(directory.file(".env"), 0o644)
        // git tracks the .env: its secrets are in the history.
        try Command.run("/usr/bin/git", ["-C", directory.path, "init", "-q"])
        try Command.run("/usr/bin/git", ["-C", directory.path, "add", ".env"])
        let made = try await WhisperctlBinary.run(["cert", "self-signed", "--cn", "chat.test", "--out", "tls"], in: directory)
        try #require(made.status == 0, "\(made.stderr)")
        chmod(directory.file("tls/combined.pem"), 0o644)

        try await withService({ try await WhisperServerProcess.start() }) { server in
            try await withService({ try await RedisServer.start() }) { redis in
                try await withService({ try await PostgresServer.start() }) { postgres in
                    try await Self.trustNetworkLogins(postgres)
                    let ports = (http: try FreePort.next(), https: try FreePort.next(), stats: try FreePort.next())
                    var config = try String(contentsOfFile: Self.fixture + "/haproxy.cfg", encoding: .utf8)
                    for (mark, value) in [("@HTTP@", "\(ports.http)"), ("@HTTPS@", "\(ports.https)"), ("@STATS@", "\(ports.stats)"),
                                          ("@SERVER@", "\(server.port)"), ("@PEM@", directory.file("tls/combined.pem"))] {
                        config = config.replacingOccurrences(of: mark, with: value)
                    }
                    let haproxyConfig = try directory.write("haproxy.cfg", config)
                    try await withService({ try await InsecureHAProxy.start(config: haproxyConfig, directory: directory, statsPort: ports.stats) }) { _ in
                        _ = try directory.write("whisperctl.yml", """
                            deployment: insecure
                            servers:
                              - name: ws1
                                url: http://127.0.0.1:\(server.port)
                                restart: {driver: compose, service: wsserver, file: docker-compose.yml}
                            haproxy:
                              frontend: wss://127.0.0.1:\(ports.https)/ws
                              config: haproxy.cfg
                            redis:
                              addr: 127.0.0.1:\(redis.port)
                            postgres:
                              url: \(postgres.superuserURL)
                            """)
                        let (run, found) = try await Self.audit(
                            ["--k8s", "k8s", "--http-url", "http://127.0.0.1:\(ports.http)/", "--root", Self.fixture], in: directory)
                        #expect(run.status == 2, "\(run.stdout)\n\(run.stderr)")
                        let expected: [String: String] = [
                            "secrets.placeholders": "critical", "haproxy.stats-password": "critical", "grafana.admin-password": "critical",
                            "grafana.sign-up": "critical", "files.env-mode": "critical", "files.env-git": "critical", "files.pem-mode": "critical",
                            "tls.minimum-version": "critical", "tls.modern": "ok", "tls.hsts": "warning", "tls.http-redirect": "warning",
                            "ports.listening": "critical", "redis.password": "critical", "redis.bind": "ok",
                            "postgres.password-encryption": "warning", "postgres.hba": "critical",
                            "compose.limits": "warning", "compose.non-root": "warning", "compose.docker-socket": "critical",
                            "compose.read-only": "warning", "compose.privileged": "critical", "compose.published-ports": "critical",
                            "compose.backend-network": "warning", "compose.postgres-auth": "warning",
                            "k8s.non-root": "warning", "k8s.read-only": "warning", "k8s.limits": "warning", "k8s.privileged": "critical",
                            "k8s.docker-socket": "critical", "k8s.network-policy": "warning",
                        ]
                        for (id, severity) in expected.sorted(by: { $0.key < $1.key }) {
                            #expect(found[id] == severity, "\(id): \(found[id] ?? "missing"), expected \(severity)")
                        }
                        // What exactly was seen, never a value.
                        #expect(run.stdout.contains("0.0.0.0:6379 (Redis)") && run.stdout.contains("[::]:4222 (NATS)"))
                        #expect(!run.stdout.contains("5432 (PostgreSQL)"), "PostgreSQL listens on loopback only in the fixture")
                        #expect(run.stdout.contains("services.redis publishes 6379:6379") && run.stdout.contains("mounts /var/run/docker.sock"))
                        #expect(run.stdout.contains("completed a TLSv1"))

                        let text = try await WhisperctlBinary.run(["audit", "--k8s", "k8s", "--http-url", "http://127.0.0.1:\(ports.http)/", "--root", Self.fixture], in: directory)
                        #expect(text.status == 2 && text.stdout.contains("CRITICAL (") && text.stdout.contains("fix: chmod 600"), "\(text.stdout)")
                        for secret in ["hunter2hunter2", "letmein", "Zq8v3LrT0pWm6NcY1sXe4HbK7uDj9GfA2", "CHANGE_ME_postgres_password", "whisper_haproxy_stats",
                                       PostgresServer.superuserPassword] {
                            #expect(!(run.stdout + run.stderr + text.stdout + text.stderr).contains(secret), "\(secret) printed")
                        }
                    }
                }
            }
        }
    }

    /// md5 for new passwords and a trust rule for network logins, as a careless pg_hba.conf has them.
    static func trustNetworkLogins(_ postgres: PostgresServer) async throws {
        let admin = try await PostgresConnection.connect(url: postgres.superuserURL, timeout: .seconds(10))
        defer { admin.close() }
        let hba = try #require(try await admin.query("SHOW hba_file").rows.first?[0].string)
        let rules = try String(contentsOfFile: hba, encoding: .utf8)
        try ("host all all 127.0.0.2/32 trust\n" + rules).write(toFile: hba, atomically: false, encoding: .utf8)
        _ = try await admin.query("ALTER SYSTEM SET password_encryption = 'md5'")
        _ = try await admin.query("SELECT pg_reload_conf()")
        try await eventually(timeout: .seconds(10), "the reloaded settings") {
            (try? await admin.query("SHOW password_encryption").rows.first?[0].string) == "md5"
        }
    }

    @Test func theShippedProductionFilesPass() async throws {
        let directory = try TemporaryDirectory(prefix: "whisper-audit-prod")
        defer { directory.remove() }
        try Command.run("/bin/cp", ["-a", Repository.path("docker"), directory.file("docker")])
        // The operator's .env: every CHANGE_ME replaced with a random value, mode 0600.
        let example = try String(contentsOfFile: Repository.path("docker/.env.example"), encoding: .utf8)
        var secrets: [String: String] = [:]
        let env = example.split(separator: "\n").map { line -> String in
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[1].contains("CHANGE_ME") else { return String(line) }
            let value = Self.randomSecret()
            secrets[String(parts[0])] = value
            return "\(parts[0])=\(value)"
        }.joined(separator: "\n")
        _ = try directory.write("docker/.env", env + "\n")
        chmod(directory.file("docker/.env"), 0o600)
        try FileManager.default.createDirectory(atPath: directory.file("proc/net"), withIntermediateDirectories: true)
        // A host where HAProxy's 80 and 443 are published, Redis on loopback only.
        _ = try directory.write("proc/net/tcp", """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
               1: 00000000:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
               2: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0

            """)
        let redisPassword = try #require(secrets["REDIS_PASSWORD"])

        try await withService({ try await WhisperServerProcess.start() }) { server in
            try await withService({ try await RedisServer.start(password: redisPassword) }) { redis in
                try await withService({ try await PostgresServer.start() }) { postgres in
                    try await withService({ try await FixtureHTTPServer.start(routes: [:]) }) { certbot in
                        try await withService({
                            try await ShippedHAProxy.start("haproxy.prod.cfg", servers: ["wsserver-1:8080": server.port, "wsserver-2:8080": server.port], certbot: certbot.port)
                        }) { haproxy in
                            try await haproxy.waitForServersUp()
                            _ = try directory.write("whisperctl.yml", """
                                deployment: prod
                                haproxy:
                                  frontend: wss://127.0.0.1:\(haproxy.ports.https)/ws
                                  config: \(haproxy.directory.file("haproxy.cfg"))
                                redis:
                                  addr: 127.0.0.1:\(redis.port)
                                  password: ${REDIS_PASSWORD}
                                postgres:
                                  url: \(postgres.superuserURL)
                                """)
                            let (run, found) = try await Self.audit(
                                ["--compose", "docker/docker-compose.prod.yml", "--k8s", "docker/k8s", "--http-url", "http://127.0.0.1:\(haproxy.ports.http)/",
                                 "--root", directory.path],
                                in: directory, environment: ["REDIS_PASSWORD": redisPassword])
                            #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
                            let failing = found.filter { !["ok", "info"].contains($0.value) }
                            #expect(failing.isEmpty, "\(failing.sorted { $0.key < $1.key })")
                            for id in ["tls.minimum-version", "tls.modern", "tls.hsts", "tls.http-redirect", "secrets.placeholders", "haproxy.stats-password",
                                       "files.env-mode", "files.pem-mode", "grafana.admin-password", "grafana.sign-up", "ports.listening", "redis.password",
                                       "redis.bind", "postgres.password-encryption", "postgres.hba", "compose.limits", "compose.non-root", "compose.read-only",
                                       "compose.docker-socket", "compose.backend-network", "compose.published-ports", "k8s.non-root", "k8s.network-policy"] {
                                #expect(found[id] == "ok", "\(id): \(found[id] ?? "missing")")
                            }
                            for secret in secrets.values { #expect(!(run.stdout + run.stderr).contains(secret)) }
                        }
                    }
                }
            }
        }
    }

    /// A check that cannot run is unknown (exit 3), naming what it could not reach or read.
    @Test func whatCannotBeCheckedIsUnknownAndNamed() async throws {
        let directory = try TemporaryDirectory(prefix: "whisper-audit-unknown")
        defer { directory.remove() }
        let closed = try FreePort.next()
        _ = try directory.write("broken.yml", "services: [unclosed\n")
        _ = try directory.write("whisperctl.yml", "deployment: x\nhaproxy:\n  frontend: wss://127.0.0.1:\(closed)/ws\n")
        let (run, found) = try await Self.audit(["--compose", "broken.yml", "--root", directory.path], in: directory)
        #expect(run.status == 3, "\(run.stdout)\n\(run.stderr)")
        #expect(found["tls.minimum-version"] == "unknown" && found["compose.file"] == "unknown" && found["ports.listening"] == "unknown", "\(found)")
        #expect(run.stdout.contains("broken.yml") && run.stdout.contains("127.0.0.1:\(closed)"), "\(run.stdout)")

        let bad = try await WhisperctlBinary.run(["audit", "--allow-port", "70000"], in: directory)
        #expect(bad.status == 64 && bad.stderr.contains("--allow-port"), "\(bad.status) \(bad.stderr)")
    }
}

/// The insecure fixture's HAProxy, ready when its stats page answers.
struct InsecureHAProxy: StoppableService {
    let process: ServiceProcess

    static func start(config: String, directory: TemporaryDirectory, statsPort: Int) async throws -> InsecureHAProxy {
        let process = try ServiceProcess(
            name: "haproxy", executable: try Executables.require("haproxy"), arguments: ["-db", "-f", config], logPath: directory.file("haproxy.log"),
            environment: ["PATH": "/usr/bin:/bin"])
        return try await awaitReady(InsecureHAProxy(process: process), process: process, "the insecure HAProxy") {
            (try? await HTTPClient().get("http://127.0.0.1:\(statsPort)/stats", timeout: .milliseconds(500))) != nil
        }
    }

    func stop() async {
        let process = self.process
        _ = try? await Offload.run { process.stop() }
    }
}
