import Foundation
import OpsKit

/// A real HAProxy with one backend of servers, health-checked on /ready, and a stats page.
package final class HAProxyServer: StoppableService {
    package let frontendPort: Int
    package let statsPort: Int
    package let backend: String
    package let process: ServiceProcess
    package let directory: TemporaryDirectory
    package var statsURL: String { "http://127.0.0.1:\(statsPort)/haproxy/stats" }
    package var runtimeSocket: String { directory.file("admin.sock") }

    private init(frontendPort: Int, statsPort: Int, backend: String, process: ServiceProcess, directory: TemporaryDirectory) {
        self.frontendPort = frontendPort
        self.statsPort = statsPort
        self.backend = backend
        self.process = process
        self.directory = directory
    }

    /// How HAProxy checks the backend servers.
    package struct Checks: Sendable {
        package var interval = "200ms"
        package var rise = 1
        package var fall = 1
        /// A 404 from /ready puts the server in NOLB (`http-check disable-on-404`).
        package var disableOn404 = false
        /// Servers listed without `check` (HAProxy shows them as "no check").
        package var unchecked: Set<String> = []
        /// `option forwardfor`: the client's address goes to the servers in X-Forwarded-For.
        package var forwardFor = false
        package static let fast = Checks()
        package init(
            interval: String = "200ms", rise: Int = 1, fall: Int = 1, disableOn404: Bool = false, unchecked: Set<String> = [], forwardFor: Bool = false
        ) {
            self.forwardFor = forwardFor
            self.interval = interval
            self.rise = rise
            self.fall = fall
            self.disableOn404 = disableOn404
            self.unchecked = unchecked
        }
    }

    /// - Parameters:
    ///   - servers: (name, port) of each backend server on 127.0.0.1.
    ///   - tlsCertificate: a combined cert + key PEM: the frontend then speaks HTTPS.
    package static func start(
        backend: String = "ws_servers", servers: [(name: String, port: Int)], tlsCertificate: String? = nil, checks: Checks = .fast
    ) async throws -> HAProxyServer {
        try await retryingStart { try await startOnce(backend: backend, servers: servers, tlsCertificate: tlsCertificate, checks: checks) }
    }

    private static func startOnce(
        backend: String, servers: [(name: String, port: Int)], tlsCertificate: String?, checks: Checks
    ) async throws -> HAProxyServer {
        let binary = try Executables.require("haproxy")
        let directory = try TemporaryDirectory(prefix: "whisper-haproxy")
        let frontendPort = try FreePort.next()
        let statsPort = try FreePort.next()
        // maxconn stays far below the 20,000 open-files limit of this machine.
        let serverLines = servers.map {
            checks.unchecked.contains($0.name)
                ? "    server \($0.name) 127.0.0.1:\($0.port)"
                : "    server \($0.name) 127.0.0.1:\($0.port) check inter \(checks.interval) fall \(checks.fall) rise \(checks.rise)"
        }.joined(separator: "\n")
        let config = """
            global
                maxconn 4000
                stats socket \(directory.file("admin.sock")) mode 600 level admin

            defaults
                mode http
                timeout connect 1s
                timeout client 10s
                timeout server 10s
                timeout tunnel 1h\(checks.forwardFor ? "\n    option forwardfor" : "")

            frontend whisper
                bind 127.0.0.1:\(frontendPort)\(tlsCertificate.map { " ssl crt \($0)" } ?? "")
                default_backend \(backend)

            backend \(backend)
                balance leastconn
                option httpchk GET /ready\(checks.disableOn404 ? "\n    http-check disable-on-404" : "")
            \(serverLines)

            listen stats
                bind 127.0.0.1:\(statsPort)
                stats enable
                stats uri /haproxy/stats
                stats refresh 5s

            """
        let configPath = try directory.write("haproxy.cfg", config)
        _ = try await Offload.run { try Command.run(binary, ["-c", "-q", "-f", configPath]) }
        let process = try ServiceProcess(
            name: "haproxy", executable: binary, arguments: ["-db", "-f", configPath], logPath: directory.file("haproxy.log"))
        let server = HAProxyServer(
            frontendPort: frontendPort, statsPort: statsPort, backend: backend, process: process, directory: directory)
        return try await awaitReady(server, process: process, "haproxy stats on \(statsPort)") {
            (try? await HTTPClient().get(server.statsURL + ";csv", timeout: .milliseconds(500)))?.status == 200
        }
    }

    /// The current stats of the backend, as whisperctl reads them.
    package func stats() async throws -> HAProxyStats {
        try HAProxyStats(csv: try await HTTPClient().get(statsURL + ";csv").text)
    }

    /// Waits until the named server's raw status satisfies `matches` (e.g. "DOWN 1/3").
    package func waitForStatus(_ server: String, _ description: String, _ matches: @escaping @Sendable (String) -> Bool) async throws {
        try await eventually(timeout: .seconds(20), "haproxy server \(server) \(description)") {
            guard let row = try? await stats().servers(ofBackend: backend).first(where: { $0.service == server }) else { return false }
            return matches(row.status)
        }
    }

    /// Waits until every named server shows `state` (checks run every 200 ms).
    package func waitFor(_ state: HAProxyServerState, servers names: [String]) async throws {
        try await eventually("haproxy servers \(names) \(state.rawValue)") {
            guard let stats = try? await stats() else { return false }
            let rows = stats.servers(ofBackend: backend).filter { names.contains($0.service) }
            return rows.count == names.count && rows.allSatisfy { HAProxyServerState(haproxyStatus: $0.status) == state }
        }
    }

    package func stop() async {
        let process = self.process
        _ = try? await Offload.run { process.stop() }
        directory.remove()
    }
}
