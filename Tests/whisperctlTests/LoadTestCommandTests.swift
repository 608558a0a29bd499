import Foundation
import OpsKit
import TestSupport
import Testing

/// `whisperctl loadtest` against a real whisper-server.
@Suite struct LoadTestCommandTests {
    @Test func aCleanRunDeliversEverythingAndReportsJSON() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let run = try await WhisperctlBinary.run(
                [
                    "loadtest", "--url", "ws://127.0.0.1:\(server.port)/ws", "--connections", "30", "--chatting-pairs", "5",
                    "--rate", "200", "--duration", "1s", "--ramp", "300ms", "--json",
                ], in: directory)
            #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
            let report = try JSONValue.parse(Array(run.stdout.utf8))
            #expect(report["connections"] == .int(30))
            #expect(report["connect_errors"] == .int(0))
            let sent = try #require(report["sent"]?.intValue)
            #expect(sent > 50)
            #expect(report["delivered"] == .int(sent))
            for field in ["lost", "duplicated", "out_of_order", "resumed"] { #expect(report[field] == .int(0), "\(field)") }
            #expect((report["latency_ms"]?["p99"]?.doubleValue ?? 0) > 0)
            #expect(report["latency_ms"]?["p50"] != nil && report["latency_ms"]?["max"] != nil)
            #expect(report["passed"] == .bool(true))
            // The server counted the same traffic.
            #expect(try await server.metric(#"whisper_messages_total{type="sent"}"#) == Double(sent))
        }
    }

    /// What a frozen server never acknowledged is in flight, not lost: the run fails, naming it.
    @Test func aServerFrozenMidRunLeavesMessagesInFlightAndExits1() async throws {
        let server = try await WhisperServerProcess.start()
        let directory = try TemporaryDirectory()
        let process = server.process
        defer {
            directory.remove()
            process.resume()
            Task { await server.stop() }
        }
        // SIGSTOP once messages flow: the server accepts bytes into its socket buffers but relays nothing.
        Task {
            try await eventually("messages flow") {
                ((try? await server.metric(#"whisper_messages_total{type="received"}"#)) ?? 0) > 50
            }
            process.pause()
        }
        let run = try await WhisperctlBinary.run(
            [
                "loadtest", "--url", "ws://127.0.0.1:\(server.port)/ws", "--connections", "10", "--chatting-pairs", "5",
                "--rate", "500", "--duration", "4s", "--ramp", "200ms", "--json",
            ], in: directory)
        #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
        let report = try JSONValue.parse(Array(run.stdout.utf8))
        #expect((report["in_flight"]?.intValue ?? 0) > 0, "\(run.stdout)")
        #expect((report["in_flight"]?.intValue ?? 0) + (report["delivered"]?.intValue ?? 0) + (report["lost"]?.intValue ?? 0) == report["sent"]?.intValue)
        #expect(report["problems"]?.arrayValue?.contains { $0.stringValue?.contains("still in flight") == true } == true, "\(run.stdout)")
        #expect(report["passed"] == .bool(false))
    }

    @Test func impossiblePlansAreUsageErrors() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tooManyPairs = try await WhisperctlBinary.run(["loadtest", "--connections", "4", "--chatting-pairs", "3"], in: directory)
        #expect(tooManyPairs.status == 64)
        #expect(tooManyPairs.stderr.contains("--chatting-pairs"))
        let badURL = try await WhisperctlBinary.run(["loadtest", "--url", "http://x"], in: directory)
        #expect(badURL.status == 64)
    }
}

/// A verdict needs the load it promised: refused, hung and limited runs fail, saying why first.
@Suite struct LoadTestVerdictTests {
    func loadtest(_ port: Int, _ extra: [String] = [], interruptAfter: Duration? = nil) async throws -> (ProgramRun, JSONValue) {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let run = try await WhisperctlBinary.run(
            ["loadtest", "--url", "ws://127.0.0.1:\(port)/ws", "--connections", "10", "--chatting-pairs", "4", "--rate", "80", "--duration", "1s",
             "--ramp", "200ms", "--json"] + extra, in: directory, interruptAfter: interruptAfter)
        return (run, try JSONValue.parse(Array(run.stdout.utf8)))
    }

    @Test func nothingListeningFailsNamingTheRefusal() async throws {
        let port = try FreePort.next()
        let (run, report) = try await loadtest(port)
        #expect(run.status == 1)
        #expect(report["passed"] == .bool(false))
        #expect(report["connect_errors"] == .int(10))
        let first = report["problems"]?.arrayValue?.first?.stringValue ?? ""
        #expect(first.contains("10 of 10 connections failed") && first.contains("connection refused"), "\(first)")
    }

    @Test func anEndpointThatNeverAnswersFailsWithinItsTimeouts() async throws {
        let hole = try BlackHoleServer()
        defer { Task { await hole.stop() } }
        let started = ContinuousClock.now
        let (run, report) = try await loadtest(hole.port)
        #expect(ContinuousClock.now - started < .seconds(20), "bounded by the connect and upgrade timeouts")
        #expect(run.status == 1)
        let first = report["problems"]?.arrayValue?.first?.stringValue ?? ""
        #expect(first.contains("no answer to the upgrade"), "\(first)")
    }

    @Test func aPerIPLimitIsNamedWithWhatToDo() async throws {
        // Every client from one address, as behind a proxy: the server's per-IP limit refuses most.
        try await withService({ try await WhisperServerProcess.start(environment: ["MAX_CONNS_PER_IP": "3"]) }) { server in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let run = try await WhisperctlBinary.run(
                ["loadtest", "--url", "ws://localhost:\(server.port)/ws", "--connections", "10", "--chatting-pairs", "4", "--rate", "80",
                 "--duration", "1s", "--ramp", "200ms"], in: directory)
            #expect(run.status == 1)
            let first = run.stdout.split(separator: "\n").first.map(String.init) ?? ""
            #expect(first.hasPrefix("FAILED: ") && first.contains("of 10 connections failed") && first.contains("HTTP 429"), "\(run.stdout)")
            #expect(first.contains("MAX_CONNS_PER_IP") && first.contains("TRUSTED_PROXIES"), "\(first)")
            #expect(run.stdout.contains("max_conns_per_ip"), "the servers' own count: \(run.stdout)")
        }
    }

    @Test func aRateOverTheServersLimitFailsNamingIt() async throws {
        try await withService({ try await WhisperServerProcess.start(environment: ["MAX_MSGS_PER_10S": "5"]) }) { server in
            let (run, report) = try await loadtest(server.port, ["--rate", "200", "--duration", "1s"])
            #expect(run.status == 1)
            let problems = report["problems"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(problems.contains { $0.contains("rate_limited") && $0.contains("MAX_MSGS_PER_10S") }, "\(problems)")
            #expect((report["error_codes"]?["rate_limited"]?.intValue ?? 0) > 0)
            #expect(run.stderr.contains("over the server's default limit"), "the plan itself warns: \(run.stderr)")
        }
    }

    @Test func ctrlCPrintsThePartialReport() async throws {
        try await withService({ try await WhisperServerProcess.start() }) { server in
            let (run, report) = try await loadtest(server.port, ["--duration", "30s"], interruptAfter: .seconds(2))
            #expect(run.status == 1)
            #expect(report["partial"] == .bool(true))
            #expect((report["sent"]?.intValue ?? 0) > 0)
            #expect(report["problems"]?.arrayValue?.first == .string("interrupted: the figures are partial"))
        }
    }

    @Test func unmeasuredFiguresAreDashesNotZeros() async throws {
        let port = try FreePort.next()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let run = try await WhisperctlBinary.run(
            ["loadtest", "--url", "ws://127.0.0.1:\(port)/ws", "--connections", "2", "--chatting-pairs", "1", "--duration", "1s"], in: directory)
        #expect(run.stdout.contains("latency       -"), "\(run.stdout)")
        #expect(!run.stdout.contains("0.00 ms"))
        #expect(run.stdout.contains("server CPU    -"))
    }
}

/// Through HAProxy every connection reaches the server from HAProxy's address: the per-IP limit
/// refuses most of them, and the load test says so and what to do; with `option forwardfor` and
/// TRUSTED_PROXIES the same run passes (docs/loadtest.md).
@Suite struct LoadTestThroughHAProxyTests {
    func run(forwardFor: Bool) async throws -> (ProgramRun, JSONValue) {
        var environment = ["MAX_CONNS_PER_IP": "20"]
        if forwardFor { environment["TRUSTED_PROXIES"] = "127.0.0.1" }
        let server = try await WhisperServerProcess.start(environment: environment)
        let haproxy = try await HAProxyServer.start(servers: [("ws1", server.port)], checks: .init(forwardFor: forwardFor))
        defer {
            Task {
                await haproxy.stop()
                await server.stop()
            }
        }
        try await haproxy.waitFor(.up, servers: ["ws1"])
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let run = try await WhisperctlBinary.run(
            ["loadtest", "--url", "ws://127.0.0.1:\(haproxy.frontendPort)/ws", "--connections", "60", "--chatting-pairs", "20", "--rate", "200",
             "--duration", "2s", "--ramp", "300ms", "--json"], in: directory)
        return (run, try JSONValue.parse(Array(run.stdout.utf8)))
    }

    @Test func withoutForwardedForThePerIPLimitIsNamed() async throws {
        let (run, report) = try await run(forwardFor: false)
        #expect(run.status == 1)
        let first = report["problems"]?.arrayValue?.first?.stringValue ?? ""
        #expect(first.contains("HTTP 429") && first.contains("option forwardfor") && first.contains("TRUSTED_PROXIES"), "\(first)")
        // Every refusal the clients saw is one the server counted, and no more than the 40 over
        // the limit (fewer when an early client left before a later one came: the limit counts
        // open connections).
        let refused = report["connect_errors"]?.intValue ?? 0
        let counted = report["server_rejections"]?["max_conns_per_ip"]?.intValue ?? 0
        #expect(refused > 0 && refused <= 40 && refused == counted, "\(refused) refused, the server counted \(counted): \(run.stdout)")
        #expect((report["connections"]?.intValue ?? 0) + refused == 60, "\(run.stdout)")
    }

    @Test func withForwardedForAndTrustedProxiesItPasses() async throws {
        let (run, report) = try await run(forwardFor: true)
        #expect(run.status == 0, "\(run.stdout)")
        #expect(report["connections"] == .int(60))
    }
}
