import Foundation
import OpsKit
import TestSupport
import Testing

@Suite struct LimitsAndLifecycleTests {
    /// An upgrade attempt as curl makes it, to read the refusal's status code.
    func upgradeStatus(_ server: WhisperServerProcess) async throws -> Int {
        let request = HTTPRequest(
            url: server.baseURL + "/ws",
            headers: [
                ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ], timeout: .seconds(2))
        do {
            return try await HTTPClient().execute(request).status
        } catch let error as OpsError where error.code == .timedOut {
            return 101  // upgraded: curl waits for an HTTP body that never comes
        }
    }

    @Test func perIPLimitAnswers429AndMaxConnections503() async throws {
        try await withService({ try await WhisperServerProcess.start(environment: ["MAX_CONNS_PER_IP": "2"]) }) { server in
            let first = try await ChatClient(server)
            let second = try await ChatClient(server)
            try await first.expect("welcome")
            try await second.expect("welcome")
            #expect(try await upgradeStatus(server) == 429)
            #expect(try await server.metric(#"whisper_connections_rejected_total{reason="max_conns_per_ip"}"#) == 1)
        }
        try await withService({ try await WhisperServerProcess.start(environment: ["MAX_CONNECTIONS": "1"]) }) { server in
            let only = try await ChatClient(server)
            try await only.expect("welcome")
            #expect(try await upgradeStatus(server) == 503)
            #expect(try await HTTPClient().get(server.baseURL + "/ready").status == 503)
        }
    }

    /// Without root's privileges (a container's user, a unit's `User=`), connections are served:
    /// TCP_NODELAY is set at the TCP level, not as SOL_SOCKET's SO_DEBUG, which only root may set
    /// and whose refusal closed every accepted connection.
    @Test func anUnprivilegedServerServesChats() async throws {
        try await withService({ try await WhisperServerProcess.start(user: 65534) }) { server in
            let first = try await ChatClient(server)
            let second = try await ChatClient(server)
            try await first.expect("welcome")
            try await second.expect("welcome")
            #expect((try await HTTPClient().get(server.baseURL + "/live")).status == 200)
        }
    }

    @Test func healthReadyAndLiveAnswer() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            let health = try await HTTPClient().get(server.baseURL + "/health")
            #expect(health.status == 200)
            let body = try JSONValue.parse(health.body)
            #expect(body["status"] == .string("healthy"))
            #expect(body["connections"] == .int(0))
            #expect(body["draining"] == .bool(false))
            #expect(body["version"]?.stringValue?.isEmpty == false)
            #expect(try await HTTPClient().get(server.baseURL + "/ready").status == 200)
            #expect(try await HTTPClient().get(server.baseURL + "/live").status == 200)
            #expect(try await HTTPClient().get(server.baseURL + "/nope").status == 404)
            let metrics = try await HTTPClient().get(server.baseURL + "/metrics").text
            for name in ["process_resident_memory_bytes", "process_open_fds", "process_cpu_seconds_total", "process_start_time_seconds"] {
                #expect(metrics.contains("\n\(name) "), "\(name)")
            }
        }
    }

    @Test func drainStopsReadinessThenEvictsWith1012AndExitsZero() async throws {
        let environment = ["DRAIN_GRACE": "2s", "DRAIN_SPREAD": "400ms", "DRAIN_TIMEOUT": "15s"]
        let server = try await WhisperServerProcess.start(environment: environment)
        defer { Task { await server.stop() } }
        let a = try await ChatClient(server)
        let b = try await ChatClient(server)
        try await a.expect("welcome")
        try await b.expect("welcome")
        server.process.signal(SIGTERM)
        try await eventually(timeout: .seconds(2), "/ready to turn 503") {
            (try? await HTTPClient().get(server.baseURL + "/ready"))?.status == 503
        }
        #expect(try await upgradeStatus(server) == 503)
        for client in [a, b] {
            let draining = try await client.expect("draining", timeout: .seconds(6))
            #expect((0..<1000).contains(draining["reconnect_in_ms"]?.intValue ?? -1))
            #expect(try await client.closeCode() == 1012)
        }
        let process = server.process
        #expect(try await Offload.run { process.waitForExitCode(timeout: .seconds(10)) } == 0)
    }

    @Test func anInvalidSettingStopsStartUpWithExit78() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let run = try Command.capture(
            WhisperServerProcess.binary, [], environment: ["MAX_CONNECTIONS": "lots", "PATH": "/usr/bin:/bin"], directory: directory.path)
        #expect(run.status == 78)
        #expect(run.stderr.contains("MAX_CONNECTIONS"))
        let badFile = try Command.capture(
            WhisperServerProcess.binary, [], environment: ["BLOCKED_WORDS_FILE": "/nonexistent", "PATH": "/usr/bin:/bin"], directory: directory.path)
        #expect(badFile.status == 78)
        #expect(badFile.stderr.contains("BLOCKED_WORDS_FILE"))
    }
}
