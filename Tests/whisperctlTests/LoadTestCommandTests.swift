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

    @Test func aServerFrozenMidRunLosesMessagesAndExits1() async throws {
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
        #expect((report["lost"]?.intValue ?? 0) > 0)
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
