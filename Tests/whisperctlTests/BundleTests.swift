import Foundation
import OpsKit
import Synchronization
import TestSupport
import Testing

/// `whisperctl bundle` against a real deployment: Redis with a password, NATS, PostgreSQL,
/// HAProxy with its runtime API, two whisper-servers, each writing its own log.
@Suite(.serialized) struct BundleTests {
    static let redisPassword = "redis-Bundle-Secret-3"
    static let token = "tok-Bundle-Secret-99"

    /// Everything the issue lists is in the bundle, every checksum holds, and no secret of the
    /// inventory, the .env or the environment appears in any byte of it, even where a service
    /// logged one.
    @Test func theBundleHoldsTheDeploymentAndNoSecret() async throws {
        let directory = try TemporaryDirectory(prefix: "bundle")
        defer { directory.remove() }
        let stack = try await LoggingStack.start(redisPassword: Self.redisPassword)
        defer { Task.detached { await stack.stop() } }
        let (postgres, ws2) = (stack.postgres, stack.servers[1])

        // A service that logs a secret (its connection string) must not carry it into the bundle.
        let leaky = FileHandle(forWritingAtPath: ws2.process.logPath)!
        leaky.seekToEndOfFile()
        leaky.write(Data("{\"level\":\"error\",\"message\":\"cannot connect to postgres\",\"url\":\"\(postgres.url)\",\"token\":\"\(Self.token)\"}\n".utf8))
        try leaky.close()
        try directory.write("audit.log", "{\"command\":\"rollout\",\"outcome\":\"ok\"}\n")
        try directory.write(".env", "REDIS_PASSWORD=\(Self.redisPassword)\nDATABASE_URL=\(postgres.url)\n")
        try directory.write(
            "whisperctl.yml", stack.inventory(deployment: "bundle-test", redisPassword: "${REDIS_PASSWORD}", postgresURL: "${DATABASE_URL}") + "audit:\n  log: audit.log\n")

        let run = try await WhisperctlBinary.run(
            ["bundle", "--duration", "1s", "--snapshots", "2", "--lines", "50", "--out", "incident.tar.gz", "--json"],
            environment: ["WHISPER_API_TOKEN": Self.token], in: directory)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let summary = try JSONValue.parse(Array(run.stdout.utf8))
        #expect(summary["not_collected"]?.arrayValue?.isEmpty == true, "everything was reachable: \(run.stdout)")
        var status = stat()
        #expect(stat(directory.file("incident.tar.gz"), &status) == 0 && status.st_mode & 0o777 == 0o600, "written at mode 0600")

        try FileManager.default.createDirectory(atPath: directory.file("unpacked"), withIntermediateDirectories: true)
        let untar = try await ExternalTool.run("tar", ["-xzf", directory.file("incident.tar.gz"), "-C", directory.file("unpacked")], in: directory.path)
        #expect(untar.status == 0, "\(ExternalTool.output(untar))")
        let root = directory.file("unpacked/incident")
        let sums = try await ExternalTool.run("sha256sum", ["-c", "--strict", "SHA256SUMS"], in: root)
        #expect(sums.status == 0 && !sums.stdout.contains("FAILED"), "\(ExternalTool.output(sums))")

        func read(_ name: String) -> String { (try? String(contentsOfFile: root + "/" + name, encoding: .utf8)) ?? "(missing \(name))" }
        #expect(read("status.json").contains("\"overall\""))
        #expect(read("diag.json").contains("\"findings\""))
        #expect(read("config.json").contains("\"settings\""))
        #expect(read("inventory/whisperctl.yml").contains("url: ${DATABASE_URL}"))
        for name in ["ws1", "ws2"] {
            for snapshot in 1...2 { #expect(read("metrics/\(name)-\(snapshot).txt").contains("whisper_"), "metrics/\(name)-\(snapshot).txt") }
        }
        #expect(read("haproxy/show-stat.csv").contains("\(stack.haproxy.backend),ws1,"))
        #expect(read("haproxy/show-info.txt").contains("Name: HAProxy"))
        #expect(read("redis/info.txt").contains("redis_version:"))
        #expect(read("nats/varz.json").contains("\"server_id\""))
        #expect(read("nats/connz.json").contains("\"connections\""))
        #expect(read("postgres/activity.json").contains("\"pg_stat_activity\""))
        #expect(read("kernel/sysctl.txt").contains("net.core.somaxconn = "))
        #expect(read("logs/ws2.log").contains("cannot connect to postgres"), "the last lines of the server's own log")
        #expect(read("logs/redis.log").contains("Ready to accept connections"))
        #expect(read("logs/postgres.log").contains("database system is ready"))
        for service in ["ws1", "haproxy", "nats"] {
            #expect(FileManager.default.fileExists(atPath: root + "/logs/\(service).log"), "logs/\(service).log")
        }
        #expect(read("audit.log").contains("\"rollout\""))
        let manifest = try JSONValue.parse(Array(read("manifest.json").utf8))
        let listed = Set(manifest["files"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
        let present = Set(try FileManager.default.subpathsOfDirectory(atPath: root).filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory) && !isDirectory.boolValue
        })
        #expect(listed.union(["manifest.json", "SHA256SUMS"]) == present, "the manifest lists every file")

        // Every byte, names and headers included, through gzip -d.
        let secrets = [Self.redisPassword, PostgresServer.appPassword, Self.token]
        let archive = try await ExternalTool.run("gzip", ["-dc", directory.file("incident.tar.gz")], in: directory.path).stdout
        for secret in secrets { #expect(!archive.contains(secret), "\(secret) is in the bundle") }
        for file in present {
            let text = read(file)
            for secret in secrets { #expect(!text.contains(secret), "\(secret) in \(file)") }
        }
        #expect(read("logs/ws2.log").contains(Redactor.mask), "the logged secret is masked, the line kept")
    }

    /// What cannot be collected is named in the manifest and the bundle is still written; where
    /// the bundle cannot go, or when it is interrupted, nothing is written and nothing is left.
    @Test func badInputsAreNamedAndLeaveNothingBehind() async throws {
        let directory = try TemporaryDirectory(prefix: "bundle-bad")
        defer { directory.remove() }
        let ws1 = try await FixtureHTTPServer.start(routes: FixtureHTTPServer.healthyServerRoutes(connections: 3))
        defer { Task.detached { await ws1.stop() } }
        try directory.write("whisperctl.yml", """
            deployment: bad
            servers:
              - name: ws1
                url: \(ws1.url)
                logs: missing/ws1.log
            redis:
              addr: 127.0.0.1:1
              logs: journald:redis-server

            """)
        // journalctl is not on this PATH (nor in an sbin directory).
        let gaps = try await WhisperctlBinary.run(
            ["bundle", "--duration", "1s", "--snapshots", "1", "--out", "b.tar.gz", "--timeout", "1s"], environment: ["PATH": "/nonexistent"], in: directory)
        #expect(gaps.status == 0, "\(gaps.stdout)\(gaps.stderr)")
        #expect(gaps.stdout.contains("logs/ws1.log: ws1 logs (missing/ws1.log): cannot read log \(directory.path)/missing/ws1.log: No such file or directory"), "\(gaps.stdout)")
        #expect(gaps.stdout.contains("journalctl is not installed"), "\(gaps.stdout)")
        #expect(gaps.stdout.contains("redis/info.txt: connection refused"), "\(gaps.stdout)")
        let listing = try await ExternalTool.run("tar", ["-tzf", directory.file("b.tar.gz")], in: directory.path).stdout
        #expect(listing.contains("b/manifest.json") && listing.contains("b/status.json") && listing.contains("b/SHA256SUMS"), "\(listing)")

        let exists = try await WhisperctlBinary.run(["bundle", "--duration", "1s", "--out", "b.tar.gz"], in: directory)
        #expect(exists.status == 1 && exists.stderr.contains("b.tar.gz exists; nothing was collected"), "\(exists.stderr)")
        let before = try Array(Data(contentsOf: URL(fileURLWithPath: directory.file("b.tar.gz"))))

        let nowhere = try await WhisperctlBinary.run(["bundle", "--duration", "1s", "--out", "no/such/dir/b.tar.gz"], in: directory)
        #expect(nowhere.status == 2 && nowhere.stderr.contains("cannot write the bundle in no/such/dir: No such file or directory"), "\(nowhere.stderr)")
        let underFile = try await WhisperctlBinary.run(["bundle", "--duration", "1s", "--out", "b.tar.gz/x.tar.gz"], in: directory)
        #expect(underFile.status == 2 && underFile.stderr.contains("Not a directory"), "\(underFile.stderr)")

        // Ctrl-C while the metrics are sampled, once whisperctl handles it (SIGINT caught by the
        // process, the trap's doing): exit 130, no bundle, no temporary file.
        let pid = Atomic<Int32>(0)
        async let running = WhisperctlBinary.run(["bundle", "--duration", "60s", "--out", "late.tar.gz"], in: directory) { pid.store($0, ordering: .releasing) }
        try await eventually(timeout: .seconds(30), "whisperctl's signal trap") { Self.catchesSIGINT(pid.load(ordering: .acquiring)) }
        kill(pid.load(ordering: .acquiring), SIGINT)
        let interrupted = try await running
        #expect(interrupted.status == 130 && interrupted.stderr.contains("interrupted: no bundle written"), "\(interrupted.status) \(interrupted.stderr)")
        #expect(interrupted.elapsed < .seconds(30), "stopped at once, not after the duration")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(left == ["b.tar.gz", "whisperctl.yml"], "nothing else: \(left)")
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: directory.file("b.tar.gz")))) == before, "the existing bundle untouched")
    }

    /// Whether the process catches SIGINT (its SigCgt mask; the runtime catches only crash
    /// signals): whisperctl's trap is installed.
    static func catchesSIGINT(_ pid: Int32) -> Bool {
        guard pid > 0, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              status.contains("Name:\twhisperctl\n"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
              let mask = UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16) else { return false }
        return mask & (1 << (UInt64(SIGINT) - 1)) != 0
    }
}
