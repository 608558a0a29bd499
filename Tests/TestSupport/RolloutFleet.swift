import Foundation
import OpsKit

/// Two whisper-servers run by the `process` driver (pid files, start commands) behind a real
/// HAProxy with its runtime API, on real Redis and NATS: what `whisperctl rollout` conducts.
package final class RolloutFleet: @unchecked Sendable {
    package let directory: TemporaryDirectory
    package let redis: RedisServer
    package let nats: NATSServer
    package let haproxy: HAProxyServer
    package let ports: [String: Int]
    package let names = ["ws1", "ws2"]
    let extraEnvironment: [String: String]
    /// The whisper-server the start commands run.
    let serverBinary: String

    package static let environment = [
        "DRAIN_GRACE": "500ms", "DRAIN_SPREAD": "2s", "DRAIN_TIMEOUT": "20s", "MAX_CONNS_PER_IP": "100000", "LOG_LEVEL": "warning",
    ]

    /// The shell command that starts `name` at `version` with `extra` variables.
    package func startCommand(_ name: String, version: String, extra: [String: String] = [:], port: Int? = nil) -> String {
        var variables = Self.environment.merging(extraEnvironment) { _, new in new }.merging([
            "PATH": "/usr/bin:/bin", "LISTEN_ADDR": "127.0.0.1:\(port ?? ports[name]!)", "SERVER_NAME": name, "WHISPER_VERSION": version,
            "REDIS_ADDR": redis.address, "NATS_URL": nats.url,
        ]) { _, new in new }
        variables.merge(extra) { _, new in new }
        let assignments = variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "exec env \(assignments) \(serverBinary)"
    }

    package func pidFile(_ name: String) -> String { directory.file("\(name).pid") }
    package func pid(_ name: String) -> Int32? { (try? String(contentsOfFile: pidFile(name), encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }

    package init(environment extra: [String: String] = [:], serverBinary: String? = nil) async throws {
        self.extraEnvironment = extra
        self.serverBinary = serverBinary ?? WhisperServerProcess.binary
        directory = try TemporaryDirectory(prefix: "whisper-rollout")
        redis = try await RedisServer.start()
        nats = try await NATSServer.start()
        let ports = ["ws1": try FreePort.next(), "ws2": try FreePort.next()]
        self.ports = ports
        haproxy = try await HAProxyServer.start(servers: ["ws1", "ws2"].map { ($0, ports[$0]!) }, checks: .init(interval: "500ms", fall: 3))  // a check slowed by the load is not an outage
        for name in names { try await launch(name, port: ports[name]!) }
        for name in names {
            let url = "http://127.0.0.1:\(ports[name]!)/ready"
            try await eventually("\(name) ready") { (try? await HTTPClient().get(url, timeout: .milliseconds(500)))?.status == 200 }
        }
        try await haproxy.waitFor(.up, servers: names)
    }

    /// Starts `name` on `port` as the process driver does: its own session, its pid in the pid
    /// file, its log beside it.
    package func launch(_ name: String, port: Int, version: String = "0.1.0") async throws {
        if !names.contains(name) && !extraNames.contains(name) { extraNames.append(name) }
        let command = startCommand(name, version: version, port: port)
        let directory = self.directory
        try await Offload.run {
            try Command.run("/bin/sh", ["-c", "setsid /bin/sh -c '\(command)' >> \(directory.file("\(name).log")) 2>&1 < /dev/null & echo $! > \(directory.file("\(name).pid"))"])
        }
    }

    /// The inventory, each server with a process restart block starting `version` (`extra` per server).
    /// - Parameter natsMonitor: false leaves `nats.monitor_url` out (NATS is then checked over
    ///   its client protocol).
    package func writeInventory(version: String, extra: [String: [String: String]] = [:], rollback: Bool = false, natsMonitor: Bool = true) throws {
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
            \(natsMonitor ? "  monitor_url: \(nats.monitorURL)" : "")
            postgres: ~
            audit:
              log: \(directory.file("audit.log"))
            """)
    }

    package func health(_ name: String) async -> JSONValue? {
        guard let response = try? await HTTPClient().get("http://127.0.0.1:\(ports[name]!)/health", timeout: .seconds(1)) else { return nil }
        return try? JSONValue.parse(response.body)
    }

    /// A metric of server `name` by its full name with labels, from its /metrics.
    package func metric(_ name: String, _ metric: String) async throws -> Double? {
        let text = try await HTTPClient().get("http://127.0.0.1:\(ports[name]!)/metrics", timeout: .seconds(2)).text
        for line in text.split(separator: "\n") where line.hasPrefix(metric + " ") { return Double(line.dropFirst(metric.count + 1)) }
        return nil
    }

    package func haproxyStatus(_ name: String) async -> String? {
        try? await haproxy.stats().servers(ofBackend: haproxy.backend).first { $0.service == name }?.status
    }

    /// A fleet for `body`, stopped however `body` ends.
    package static func with(
        environment: [String: String] = [:], serverBinary: String? = nil, _ body: (RolloutFleet) async throws -> Void
    ) async throws {
        let fleet = try await RolloutFleet(environment: environment, serverBinary: serverBinary)
        do {
            try await body(fleet)
        } catch {
            await fleet.stop()
            throw error
        }
        await fleet.stop()
    }

    /// Servers started besides the fleet's own (`launch`), stopped with it.
    package var extraNames: [String] = []

    package func stop() async {
        for name in names + extraNames {
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

