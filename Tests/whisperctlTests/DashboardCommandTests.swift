import Foundation
import OpsKit
import TestSupport
import Testing

/// `dashboard` in a real terminal (tmux), `top` and `demo`, against a real whisper-server and a
/// real HAProxy.
@Suite(.serialized) struct DashboardCommandTests {
    /// A whisper-server holding `clients` WebSocket connections, behind HAProxy with its runtime API.
    struct Deployment {
        let server: WhisperServerProcess
        let haproxy: HAProxyServer
        let clients: [WebSocketClient]
        let directory: TemporaryDirectory

        static func start(clients count: Int) async throws -> Deployment {
            let server = try await WhisperServerProcess.start()
            var clients: [WebSocketClient] = []
            for _ in 0..<count { clients.append(try await WebSocketClient.connect(host: "127.0.0.1", port: server.port)) }
            let haproxy = try await HAProxyServer.start(servers: [("ws1", server.port)])
            try await haproxy.waitFor(.up, servers: ["ws1"])
            let directory = try TemporaryDirectory(prefix: "whisper-dashboard")
            try directory.write("whisperctl.yml", """
                deployment: dash-test
                servers:
                  - name: ws1
                    url: \(server.baseURL)
                haproxy:
                  stats_url: \(haproxy.statsURL)
                  runtime_api: \(haproxy.runtimeSocket)
                  backend: \(haproxy.backend)
                redis: ~
                nats: ~
                postgres: ~
                audit:
                  log: \(directory.file("audit.log"))

                """)
            return Deployment(server: server, haproxy: haproxy, clients: clients, directory: directory)
        }

        func stop() async {
            for client in clients { await client.abort() }
            await haproxy.stop()
            await server.stop()
            directory.remove()
        }
    }

    @Test func theDashboardShowsTheClientsDrainsThroughHAProxyAndGivesTheTerminalBack() async throws {
        let deployment = try await Deployment.start(clients: 7)
        defer { Task { await deployment.stop() } }
        let directory = deployment.directory
        let session = try await TmuxSession(
            command: "cd \(directory.path) && \(WhisperctlBinary.path) dashboard --interval 300ms; echo EXIT=$? > \(directory.file("exit")); "
                + "stty -a > \(directory.file("stty.partial")) && mv \(directory.file("stty.partial")) \(directory.file("stty")); sleep 60",
            environment: ["HOME": directory.path, "TERM": "xterm-256color", "LANG": "C.UTF-8"])
        defer { session.kill() }
        try await session.waitForScreen("7 connections") { $0.contains("conns 7") && $0.contains("UP") }

        // The detail view: every metric family of the instance, filterable.
        try await session.send("Enter")
        try await session.waitForScreen("the detail view") { $0.contains("whisper_connections_total") && $0.contains("families") }
        try await session.send("/")
        try await session.send("queue", literal: true)
        try await session.waitForScreen("the filtered series") { $0.contains("whisper_match_queue_size") && !$0.contains("whisper_connections_total") }
        try await session.send("Escape")  // ends the filter
        try await session.send("Escape")  // back to the main screen
        try await session.waitForScreen("the main screen") { $0.contains("INSTANCES") }

        // d asks first; n cancels; d + y drains through the runtime API.
        try await session.send("d")
        try await session.waitForScreen("the drain prompt") { $0.contains("Drain ws1?") && $0.contains("[y/N]") }
        try await session.send("n")
        try await session.waitForScreen("the cancellation") { $0.contains("drain ws1: cancelled") }
        #expect(try await deployment.haproxy.stats().servers(ofBackend: "ws_servers").first?.status == "UP")
        try await session.send("d")
        try await session.waitForScreen("the drain prompt") { $0.contains("[y/N]") }
        try await session.send("y")
        try await deployment.haproxy.waitForStatus("ws1", "DRAIN") { $0 == "DRAIN" }
        try await session.waitForScreen("ws1 in DRAIN") { $0.contains("HAProxy set to DRAIN") && $0.contains("DRAIN") }
        let audit = try String(contentsOfFile: directory.file("audit.log"), encoding: .utf8)
        let entry = try JSONValue.parse(Array(audit.split(separator: "\n").last!.utf8))
        #expect(entry["command"]?.stringValue == "dashboard")
        #expect(entry["action"]?.stringValue == "drain")
        #expect(entry["target"]?.stringValue == "ws_servers/ws1")
        #expect(entry["result"]?.stringValue == "ok")
        #expect(entry["user"]?.stringValue?.isEmpty == false)

        // r + y makes it ready again.
        try await session.send("r")
        try await session.waitForScreen("the ready prompt") { $0.contains("Make ws1 ready?") }
        try await session.send("y")
        try await deployment.haproxy.waitForStatus("ws1", "UP") { $0 == "UP" }

        // q quits with 0 and the terminal is sane again: canonical mode and echo back on.
        try await session.send("q")
        let deadline = ContinuousClock.now + .seconds(10)
        while !FileManager.default.fileExists(atPath: directory.file("stty")), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try String(contentsOfFile: directory.file("exit"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "EXIT=0")
        let stty = try String(contentsOfFile: directory.file("stty"), encoding: .utf8)
        let flags = Set(stty.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init))
        #expect(flags.contains("icanon") && flags.contains("echo") && !flags.contains("-icanon") && !flags.contains("-echo"), "\(stty)")
    }

    @Test func sigtermRestoresTheTerminalAndReadOnlyRefusesActions() async throws {
        let deployment = try await Deployment.start(clients: 2)
        defer { Task { await deployment.stop() } }
        let directory = deployment.directory
        let session = try await TmuxSession(
            // In the foreground (a background job would get /dev/null for a terminal), its pid noted first.
            command: "cd \(directory.path) && sh -c 'echo $$ > \(directory.file("pid")); exec \(WhisperctlBinary.path) dashboard --read-only'; "
                + "echo EXIT=$? > \(directory.file("exit")); stty -a > \(directory.file("stty.partial")) && mv \(directory.file("stty.partial")) \(directory.file("stty")); sleep 60",
            environment: ["HOME": directory.path, "TERM": "xterm-256color"])
        defer { session.kill() }
        try await session.waitForScreen("the dashboard") { $0.contains("conns 2") }
        try await session.send("d")
        try await session.waitForScreen("the refusal") { $0.contains("read-only: drain is disabled") }
        let pid = try String(contentsOfFile: directory.file("pid"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        kill(Int32(pid)!, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(10)
        while !FileManager.default.fileExists(atPath: directory.file("stty")), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let stty = try String(contentsOfFile: directory.file("stty"), encoding: .utf8)
        let flags = Set(stty.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init))
        #expect(flags.contains("icanon") && flags.contains("echo") && !flags.contains("-icanon") && !flags.contains("-echo"), "\(stty)")
        #expect(try String(contentsOfFile: directory.file("exit"), encoding: .utf8).contains("EXIT=143"), "128 + SIGTERM")
        #expect(try await deployment.haproxy.stats().servers(ofBackend: "ws_servers").first?.status == "UP")
        #expect(!FileManager.default.fileExists(atPath: directory.file("audit.log")))
    }

    @Test func withoutATerminalTheDashboardPointsAtTop() async throws {
        let directory = try TemporaryDirectory(prefix: "whisper-dashboard")
        defer { directory.remove() }
        let run = try await WhisperctlBinary.run(["dashboard", "--server", "ws1=http://127.0.0.1:1"], in: directory)
        #expect(run.status == 64)
        #expect(run.stderr.contains("whisperctl top"))
    }

    @Test func topOnceCountsTheClientsAndExitsByTheAlerts() async throws {
        let deployment = try await Deployment.start(clients: 5)
        defer { Task { await deployment.stop() } }
        let run = try await WhisperctlBinary.run(["top", "--once", "--json", "--interval", "500ms"], in: deployment.directory)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let json = try JSONValue.parse(Array(run.stdout.utf8))
        #expect(json["fleet"]?["connections"]?.intValue == 5)
        #expect(json["fleet"]?["reporting"]?.intValue == 1)
        #expect(json["instances"]?.arrayValue?.first?["state"]?.stringValue == "UP")
        #expect(json["haproxy"]?["serving"]?.intValue == 1)
        #expect(json["fleet"]?["latency_p99_seconds"] == .null, "no message was sent: unmeasured, not 0")

        // A second instance that does not answer: critical, named.
        let plain = try await WhisperctlBinary.run(
            ["top", "--once", "--interval", "200ms", "--timeout", "500ms", "--server", "ws1=\(deployment.server.baseURL)", "--server", "ws2=http://127.0.0.1:1"],
            in: deployment.directory)
        #expect(plain.status == 2)
        #expect(plain.stdout.contains("service_down ws2"))
        #expect(plain.stdout.contains("1/2 reporting"))
    }

    @Test func theDemoMatchesChatsAndLeavesNothingRunning() async throws {
        let directory = try TemporaryDirectory(prefix: "whisper-demo")
        defer { directory.remove() }
        let run = try await WhisperctlBinary.run(["demo", "--no-tui", "--duration", "5s", "--users", "30"], in: directory)
        #expect(run.status == 0, "\(run.stdout.suffix(2000))\(run.stderr)")
        let summary = run.stdout.split(separator: "\n").last { $0.hasPrefix("demo: ran") }.map(String.init) ?? ""
        func figure(_ label: String) -> Int {
            guard let range = summary.range(of: " \(label)") else { return 0 }
            return Int(summary[..<range.lowerBound].split(separator: " ").last ?? "") ?? 0
        }
        #expect(figure("matches") > 0, "\(summary)")
        #expect(figure("received") > 0, "\(summary)")
        #expect(figure("errors") == 0, "\(summary)")
        // The server's own numbers, through top: chats and messages.
        #expect(run.stdout.contains("active chats"))
        let port = run.stdout.firstMatch(of: /127\.0\.0\.1:(\d+)/).map { Int($0.1)! }
        let refused = try? await HTTPClient().get("http://127.0.0.1:\(port ?? 1)/health", timeout: .seconds(1))
        #expect(refused == nil, "the demo's server still answers after it exited")
    }
}
