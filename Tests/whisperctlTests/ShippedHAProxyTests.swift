import Foundation
import OpsKit
import Testing
import TestSupport

/// docker/haproxy's two configurations run by a real HAProxy in front of a real whisper-server,
/// with only their addresses moved: binds to free loopback ports, the servers' names to the
/// test servers, the socket and the PEM to a temporary directory, maxconn to what this machine's
/// 20,000 open files allow. Each rewrite must find its text, so a reshaped file fails here.
@Suite struct ShippedHAProxyTests {
    @Test func productionTerminatesTLSRedirectsLimitsAndGuardsItsStats() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            try await withService({ try await FixtureHTTPServer.start(routes: ["/.well-known/acme-challenge/token-1": .init(body: "token-1.key", contentType: "text/plain")]) }) { certbot in
                try await withService({ try await ShippedHAProxy.start("haproxy.prod.cfg", servers: ["wsserver-1:8080": server.port, "wsserver-2:8080": server.port], certbot: certbot.port) }) { haproxy in
                    try await haproxy.waitForServersUp()

                    // HTTP answers 301 to HTTPS, except the ACME challenge, which reaches certbot.
                    let plain = try await HTTPClient().get("http://127.0.0.1:\(haproxy.ports.http)/ws")
                    #expect(plain.status == 301 && plain.headers["location"]?.hasPrefix("https://") == true, "\(plain.status) \(plain.headers)")
                    let challenge = try await HTTPClient().get("http://127.0.0.1:\(haproxy.ports.http)/.well-known/acme-challenge/token-1")
                    #expect(challenge.status == 200 && challenge.text == "token-1.key")

                    // HTTPS: HSTS on the answer, the WebSocket upgrade through to the server.
                    let https = "https://127.0.0.1:\(haproxy.ports.https)"
                    let health = try await HTTPClient().get(https + "/health", insecureTLS: true)
                    #expect(health.status == 200 && health.headers["strict-transport-security"]?.contains("max-age=63072000") == true, "\(health.headers)")
                    let upgrade = try await WebSocketUpgradeProbe.probe("wss://127.0.0.1:\(haproxy.ports.https)/ws")
                    #expect(upgrade.upgraded, "\(upgrade.summary)")

                    // TLS 1.2 is served, TLS 1.1 refused by the server (the client offers it at security level 0).
                    #expect(try await Self.handshake(haproxy.ports.https, "-tls1_2") == 0)
                    #expect(try await Self.handshake(haproxy.ports.https, "-tls1_1") != 0)

                    // Stats ask for the password from the environment.
                    let stats = "http://127.0.0.1:\(haproxy.ports.stats)/haproxy/stats;csv"
                    #expect(try await HTTPClient().get(stats).status == 401)
                    let credentials = Data("admin:\(ShippedHAProxy.statsPassword)".utf8).base64EncodedString()
                    let authorized = try await HTTPClient().execute(HTTPRequest(url: stats, headers: [("Authorization", "Basic \(credentials)")]))
                    #expect(authorized.status == 200 && authorized.text.contains("ws_servers"))

                    // The exporter serves what alerts.yml reads; the runtime API is at admin level.
                    let metrics = try await HTTPClient().get("http://127.0.0.1:\(haproxy.ports.prometheus)/metrics").text
                    #expect(metrics.contains(#"haproxy_backend_active_servers{proxy="ws_servers"} 2"#), "\(metrics.prefix(300))")
                    let runtime = try HAProxyRuntimeAPI(parsing: haproxy.socket)
                    try await runtime.setState("drain", server: "ws2", backend: "ws_servers")
                    let state = try await runtime.execute("show servers state ws_servers")
                    #expect(state.contains("ws2"), "\(state)")

                    // Per client address: 100 new connections in 10 seconds; then HAProxy closes each new
                    // one as soon as it is accepted, while one it keeps waits for the TLS handshake.
                    let refused = try await Offload.run { try Self.connectionsClosedAtOnce(port: haproxy.ports.https, count: 110) }
                    #expect(refused >= 10 && refused <= 110 - 90, "\(refused) of 110 new connections refused (the earlier requests count too)")
                }
            }
        }
    }

    /// Opens `count` TCP connections, then counts those the server closed without a word.
    static func connectionsClosedAtOnce(port: Int, count: Int) throws -> Int {
        var clients: [TCPTestClient] = []
        defer { clients.forEach { $0.close() } }
        for _ in 0..<count { clients.append(try TCPTestClient(port: port)) }
        // Time for HAProxy to close the ones it refuses: a closed one reads as end of file.
        var closed = 0
        let deadline = ContinuousClock.now + .seconds(2)
        var pending = Set(clients.map(\.fd))
        while ContinuousClock.now < deadline {
            for fd in pending {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 0) == 1 {
                    pending.remove(fd)
                    closed += 1
                }
            }
            usleep(50_000)
        }
        return closed
    }

    @Test func developmentServesPlainHTTPToOneServer() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            try await withService({ try await ShippedHAProxy.start("haproxy.cfg", servers: ["wsserver:8080": server.port], certbot: nil) }) { haproxy in
                try await haproxy.waitForServersUp()
                let health = try await HTTPClient().get("http://127.0.0.1:\(haproxy.ports.http)/health")
                #expect(health.status == 200)
                let upgrade = try await WebSocketUpgradeProbe.probe("ws://127.0.0.1:\(haproxy.ports.http)/ws")
                #expect(upgrade.upgraded, "\(upgrade.summary)")
                let stats = try await HTTPClient().get("http://127.0.0.1:\(haproxy.ports.stats)/haproxy/stats;csv")
                #expect(stats.status == 200)
                let metrics = try await HTTPClient().get("http://127.0.0.1:\(haproxy.ports.prometheus)/metrics").text
                #expect(metrics.contains(#"haproxy_backend_active_servers{proxy="ws_servers"} 1"#))
            }
        }
    }

    static func handshake(_ port: Int, _ version: String) async throws -> Int32 {
        let run = try await ExternalTool.run(
            "openssl", ["s_client", "-connect", "127.0.0.1:\(port)", version, "-cipher", "DEFAULT@SECLEVEL=0", "-brief"], environment: [:])
        return run.status
    }
}

/// One of the shipped configurations, rewritten for loopback and started.
struct ShippedHAProxy: StoppableService {
    static let statsPassword = "stats-\(UInt32.random(in: 1...UInt32.max))"
    struct Ports { var http: Int, https: Int, stats: Int, prometheus: Int }

    let ports: Ports
    let socket: String
    let process: ServiceProcess
    let directory: TemporaryDirectory

    static func start(_ name: String, servers: [String: Int], certbot: Int?) async throws -> ShippedHAProxy {
        let directory = try TemporaryDirectory(prefix: "whisper-shipped-haproxy")
        let ports = Ports(http: try FreePort.next(), https: try FreePort.next(), stats: try FreePort.next(), prometheus: try FreePort.next())
        let made = try await WhisperctlBinary.run(["cert", "self-signed", "--cn", "chat.test", "--out", "tls"], in: directory)
        guard made.status == 0 else { throw SupportError("cert self-signed: \(made.stderr)") }
        var text = try String(contentsOfFile: Repository.path("docker/haproxy/\(name)"), encoding: .utf8)
        func rewrite(_ from: String, _ to: String) throws {
            guard text.contains(from) else { throw SupportError("\(name) no longer has '\(from)'") }
            text = text.replacingOccurrences(of: from, with: to)
        }
        let socket = directory.file("admin.sock")
        try rewrite("bind :80\n", "bind 127.0.0.1:\(ports.http)\n")
        try rewrite("bind :8404\n", "bind 127.0.0.1:\(ports.stats)\n")
        try rewrite("bind :8405\n", "bind 127.0.0.1:\(ports.prometheus)\n")
        try rewrite("/var/run/haproxy/admin.sock", socket)
        try rewrite(name == "haproxy.cfg" ? "maxconn 10000" : "maxconn 100000", "maxconn 4000")
        if certbot != nil || text.contains("bind :443") {
            try rewrite("bind :443 ssl crt /etc/haproxy/certs/whisper.pem", "bind 127.0.0.1:\(ports.https) ssl crt \(directory.file("tls/combined.pem"))")
        }
        if let certbot { try rewrite("server certbot 127.0.0.1:8888", "server certbot 127.0.0.1:\(certbot)") }
        for (address, port) in servers { try rewrite(" \(address)", " 127.0.0.1:\(port)") }
        let config = try directory.write("haproxy.cfg", text)
        let binary = try Executables.require("haproxy")
        let process = try ServiceProcess(
            name: "haproxy", executable: binary, arguments: ["-db", "-f", config], logPath: directory.file("haproxy.log"),
            environment: ["PATH": "/usr/bin:/bin", "HAPROXY_STATS_PASSWORD": statsPassword])
        let started = ShippedHAProxy(ports: ports, socket: socket, process: process, directory: directory)
        return try await awaitReady(started, process: process, "the shipped \(name) on \(ports.prometheus)") {
            (try? await HTTPClient().get("http://127.0.0.1:\(ports.prometheus)/metrics", timeout: .milliseconds(500)))?.status == 200
        }
    }

    /// Every server of ws_servers UP (checks every 2 seconds, rise 2).
    func waitForServersUp() async throws {
        try await eventually(timeout: .seconds(30), "the servers UP in HAProxy") {
            guard let metrics = try? await HTTPClient().get("http://127.0.0.1:\(ports.prometheus)/metrics").text else { return false }
            let down = metrics.split(separator: "\n").filter { $0.hasPrefix("haproxy_server_status{proxy=\"ws_servers\"") && $0.contains("state=\"UP\"") && $0.hasSuffix(" 0") }
            let up = metrics.split(separator: "\n").filter { $0.hasPrefix("haproxy_server_status{proxy=\"ws_servers\"") && $0.contains("state=\"UP\"") && $0.hasSuffix(" 1") }
            return down.isEmpty && !up.isEmpty
        }
    }

    func stop() async {
        let process = self.process
        _ = try? await Offload.run { process.stop() }
        directory.remove()
    }
}
