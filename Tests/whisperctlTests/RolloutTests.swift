import Foundation
import OpsKit
import TestSupport
import Testing

/// Two whisper-servers run by the `process` driver (pid files, start commands) behind a real
/// HAProxy with its runtime API, on real Redis and NATS: what `whisperctl rollout` conducts.
final class RolloutFleet: @unchecked Sendable {
    let directory: TemporaryDirectory
    let redis: RedisServer
    let nats: NATSServer
    let haproxy: HAProxyServer
    let ports: [String: Int]
    let names = ["ws1", "ws2"]

    static let environment = [
        "DRAIN_GRACE": "500ms", "DRAIN_SPREAD": "2s", "DRAIN_TIMEOUT": "20s", "MAX_CONNS_PER_IP": "100000", "LOG_LEVEL": "warning",
    ]

    /// The shell command that starts `name` at `version` with `extra` variables.
    func startCommand(_ name: String, version: String, extra: [String: String] = [:]) -> String {
        var variables = Self.environment.merging([
            "PATH": "/usr/bin:/bin", "LISTEN_ADDR": "127.0.0.1:\(ports[name]!)", "SERVER_NAME": name, "WHISPER_VERSION": version,
            "REDIS_ADDR": redis.address, "NATS_URL": nats.url,
        ]) { _, new in new }
        variables.merge(extra) { _, new in new }
        let assignments = variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "exec env \(assignments) \(WhisperServerProcess.binary)"
    }

    func pidFile(_ name: String) -> String { directory.file("\(name).pid") }
    func pid(_ name: String) -> Int32? { (try? String(contentsOfFile: pidFile(name), encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }

    init() async throws {
        directory = try TemporaryDirectory(prefix: "whisper-rollout")
        redis = try await RedisServer.start()
        nats = try await NATSServer.start()
        let ports = ["ws1": try FreePort.next(), "ws2": try FreePort.next()]
        self.ports = ports
        haproxy = try await HAProxyServer.start(servers: ["ws1", "ws2"].map { ($0, ports[$0]!) }, checks: .init(fall: 3))
        let directory = self.directory
        for name in names {
            // As the process driver starts a server: its own session, its pid in the pid file.
            let command = startCommand(name, version: "0.1.0")
            try await Offload.run {
                try Command.run("/bin/sh", ["-c", "setsid /bin/sh -c '\(command)' >> \(directory.file("\(name).log")) 2>&1 < /dev/null & echo $! > \(directory.file("\(name).pid"))"])
            }
        }
        for name in names {
            let url = "http://127.0.0.1:\(ports[name]!)/ready"
            try await eventually("\(name) ready") { (try? await HTTPClient().get(url, timeout: .milliseconds(500)))?.status == 200 }
        }
        try await haproxy.waitFor(.up, servers: names)
    }

    /// The inventory, each server with a process restart block starting `version` (`extra` per server).
    func writeInventory(version: String, extra: [String: [String: String]] = [:], rollback: Bool = false) throws {
        var servers = ""
        for name in names {
            let start = startCommand(name, version: version, extra: extra[name] ?? [:])
            let back = rollback ? ", rollback: \"\(startCommand(name, version: "0.1.0"))\"" : ""
            servers += """
                  - name: \(name)
                    url: http://127.0.0.1:\(ports[name]!)
                    restart: {driver: process, pid_file: \(pidFile(name)), start: "\(start)", log: \(directory.file("\(name).log"))\(back)}

                """
        }
        try directory.write("whisperctl.yml", """
            deployment: rolltest
            servers:
            \(servers)
            haproxy:
              stats_url: \(haproxy.statsURL)
              runtime_api: \(haproxy.runtimeSocket)
              backend: \(haproxy.backend)
            redis:
              addr: \(redis.address)
            nats:
              url: \(nats.url)
              monitor_url: \(nats.monitorURL)
            postgres: ~
            audit:
              log: \(directory.file("audit.log"))
            """)
    }

    func health(_ name: String) async -> JSONValue? {
        guard let response = try? await HTTPClient().get("http://127.0.0.1:\(ports[name]!)/health", timeout: .seconds(1)) else { return nil }
        return try? JSONValue.parse(response.body)
    }

    func haproxyStatus(_ name: String) async -> String? {
        try? await haproxy.stats().servers(ofBackend: haproxy.backend).first { $0.service == name }?.status
    }

    func stop() async {
        for name in names {
            if let pid = pid(name) {
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
            }
        }
        await haproxy.stop()
        await nats.stop()
        await redis.stop()
        directory.remove()
    }
}

@Suite(.serialized) struct RolloutTests {
    func withFleet(_ body: (RolloutFleet) async throws -> Void) async throws {
        let fleet = try await RolloutFleet()
        do {
            try await body(fleet)
        } catch {
            await fleet.stop()
            throw error
        }
        await fleet.stop()
    }

    /// A new version that never becomes ready: the rollout stops after the first server, the
    /// other keeps serving everyone.
    @Test func aVersionThatNeverGetsReadyStopsAfterTheFirstServer() async throws {
        try await withFleet { fleet in
            try fleet.writeInventory(version: "0.2.0", extra: ["ws1": ["MAX_CONNECTIONS": "lots"], "ws2": ["MAX_CONNECTIONS": "lots"]])
            let before = fleet.pid("ws2")
            let rollout = try await WhisperctlBinary.run(["rollout", "--yes", "--ready-timeout", "4s", "--no-soak"], in: fleet.directory)
            #expect(rollout.status == 1, "\(rollout.stdout)\n\(rollout.stderr)")
            #expect(rollout.stdout.contains("ws1: not ready after 4 s"), "\(rollout.stdout)")
            #expect(rollout.stdout.contains("STOPPED") && rollout.stdout.contains("is not running"), "\(rollout.stdout)")
            let secondVersion = await fleet.health("ws2")?["version"]
            #expect(fleet.pid("ws2") == before && secondVersion == .string("0.1.0"), "ws2 untouched")
            #expect(await fleet.haproxyStatus("ws2") == "UP")
            let status = try await WhisperctlBinary.run(["rollout", "status", "--json"], in: fleet.directory)
            #expect(status.status == 1 && status.stdout.contains("\"stopped\""), "\(status.stdout)")
        }
    }

    /// Ctrl-C while the first server drains: it is brought back, then the rollout stops.
    @Test func ctrlCMidDrainLeavesEveryServerServing() async throws {
        try await withFleet { fleet in
            try fleet.writeInventory(version: "0.2.0")
            let rollout = try await WhisperctlBinary.run(["rollout", "--yes", "--no-soak"], in: fleet.directory, interruptAfter: .milliseconds(1500))
            #expect(rollout.status == 1, "\(rollout.stdout)\n\(rollout.stderr)")
            #expect(rollout.stdout.contains("interrupted"), "\(rollout.stdout)")
            for name in fleet.names {
                #expect(await fleet.haproxyStatus(name) == "UP", "\(name) serving")
                #expect((try? await HTTPClient().get("http://127.0.0.1:\(fleet.ports[name]!)/ready"))?.status == 200)
            }
            #expect(await fleet.health("ws2")?["version"] == .string("0.1.0"), "the second server was not touched")
            let lock = try await WhisperctlBinary.run(["lock", "status"], in: fleet.directory)
            #expect(lock.status == 0, "the lock was released: \(lock.stdout)")
        }
    }

    /// Another command holds the operations lock: the rollout changes nothing and names it.
    @Test func aHeldLockIsNamedAndNothingChanges() async throws {
        try await withFleet { fleet in
            try fleet.writeInventory(version: "0.2.0")
            let backend = RedisLockBackend(address: try RedisAddress(parsing: fleet.redis.address), key: "whisperctl:lock:rolltest")
            let held = try await OperationsLock.acquire(backend, command: "backup")
            let rollout = try await WhisperctlBinary.run(["rollout", "--yes"], in: fleet.directory)
            await held.release()
            #expect(rollout.status == 1)
            #expect(rollout.stderr.contains("running 'backup'"), "\(rollout.stderr)")
            for name in fleet.names { #expect(await fleet.health(name)?["version"] == .string("0.1.0")) }
        }
    }

    /// The new version rejects connections during its soak: it is rolled back to the old one.
    @Test func aFailedSoakIsRolledBack() async throws {
        try await withFleet { fleet in
            try fleet.writeInventory(version: "0.2.0", extra: ["ws1": ["MAX_CONNECTIONS": "3"]], rollback: true)
            let directory = fleet.directory
            let rollout = Task {
                try await WhisperctlBinary.run(["rollout", "--yes", "--only", "ws1", "--soak", "5s", "--auto-rollback"], in: directory)
            }
            try await eventually(timeout: .seconds(30), "ws1 runs 0.2.0") { await fleet.health("ws1")?["version"] == .string("0.2.0") }
            try await Task.sleep(for: .milliseconds(800))
            // Ten clients straight at the new version: it takes three.
            _ = try await WhisperctlBinary.run(
                ["loadtest", "--url", "ws://127.0.0.1:\(fleet.ports["ws1"]!)/ws", "--connections", "10", "--chatting-pairs", "1", "--rate", "2",
                 "--duration", "1s", "--json"], in: directory)
            let run = try await rollout.value
            #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
            #expect(run.stdout.contains("soak failed"), "\(run.stdout)")
            #expect(run.stdout.contains("rolled back"), "\(run.stdout)")
            #expect(await fleet.health("ws1")?["version"] == .string("0.1.0"), "the old version serves again")
            #expect(await fleet.haproxyStatus("ws1") == "UP")
        }
    }

    @Test func aBadRestartBlockIsNamedByConfigCheck() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("whisperctl.yml", """
            servers:
              - name: ws1
                url: http://127.0.0.1:1
                restart: {driver: podman, unit: x}
              - name: ws2
                url: http://127.0.0.1:2
                restart:
                  driver: process
                  start: whisper-server
            """)
        let check = try await WhisperctlBinary.run(["config", "check"], in: directory)
        #expect(check.status != 0)
        #expect(check.stdout.contains(":4") && check.stdout.contains("'podman' is not a driver"), "\(check.stdout)")
        let rollout = try await WhisperctlBinary.run(["rollout", "--dry-run"], in: directory)
        #expect(rollout.status == 3, "the inventory does not load: \(rollout.stdout)\(rollout.stderr)")
    }

    @Test func theDryRunShowsThePlanAndChangesNothing() async throws {
        try await withFleet { fleet in
            try fleet.writeInventory(version: "0.2.0")
            let run = try await WhisperctlBinary.run(["rollout", "--dry-run"], in: fleet.directory)
            #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
            #expect(run.stdout.contains("1. ws1") && run.stdout.contains("2. ws2"), "\(run.stdout)")
            for name in fleet.names { #expect(await fleet.health(name)?["version"] == .string("0.1.0")) }
        }
    }
}

/// The proof under load: run alone (scripts/test), so the load is what it measures.
@Suite struct RolloutUnderLoadTests {
    func withFleet(_ body: (RolloutFleet) async throws -> Void) async throws {
        let fleet = try await RolloutFleet()
        do {
            try await body(fleet)
        } catch {
            await fleet.stop()
            throw error
        }
        await fleet.stop()
    }

    /// 200 chatting pairs through HAProxy while both servers are replaced: every client moved by a
    /// drain resumes, nothing is lost or duplicated.
    @Test func replacesBothServersUnderLoadLosingNothing() async throws {
        try await withFleet { fleet in
            try fleet.writeInventory(version: "0.2.0")
            let directory = fleet.directory
            let frontend = "ws://127.0.0.1:\(fleet.haproxy.frontendPort)/ws"
            let load = Task {
                try await WhisperctlBinary.run(
                    ["loadtest", "--url", frontend, "--connections", "400", "--chatting-pairs", "200", "--rate", "2000", "--duration", "35s",
                     "--ramp", "2s", "--json"], in: directory)
            }
            try await Task.sleep(for: .seconds(5))
            let rollout = try await WhisperctlBinary.run(
                ["rollout", "--yes", "--expect-version", "0.2.0", "--soak", "2s", "--max-p99", "1s", "--json"], in: directory)
            #expect(rollout.status == 0, "\(rollout.stdout)\n\(rollout.stderr)")
            let events = rollout.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
            #expect(events.contains { $0["step"] == .string("done") && $0["server"] == .string("ws1") })
            #expect(events.contains { $0["step"] == .string("done") && $0["server"] == .string("ws2") })
            #expect(events.last?["outcome"] == .string("completed"))
            for name in fleet.names {
                #expect(await fleet.health(name)?["version"] == .string("0.2.0"))
                // Under this load a check may fail once (fall 3 keeps it UP, shown as "UP 2/3").
                try await eventually("\(name) UP") { await fleet.haproxyStatus(name) == "UP" }
            }
            let run = try await load.value
            let report = try JSONValue.parse(Array(run.stdout.utf8))
            #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
            #expect(report["lost"] == .int(0) && report["duplicated"] == .int(0) && report["out_of_order"] == .int(0), "\(run.stdout)")
            #expect((report["resumed"]?.intValue ?? 0) >= 200, "the clients of both drained servers resumed: \(run.stdout)")
            #expect(report["resume_failures"] == .int(0))
            let status = try await WhisperctlBinary.run(["rollout", "status"], in: directory)
            #expect(status.status == 0 && status.stdout.contains("rollout completed"), "\(status.stdout)")
            let history = try await WhisperctlBinary.run(["rollout", "history"], in: directory)
            #expect(history.stdout.contains("finish") && history.stdout.contains("ok"), "\(history.stdout)")
        }
    }
}
