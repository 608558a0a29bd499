import Foundation
import OpsKit
import TestSupport
import Testing

/// Every single-component fault, at load: two instances sharing Redis and NATS, 200 pairs split
/// across them at 2,000 msg/s through `whisperctl loadtest`, and its accounting must show nothing
/// lost, duplicated or out of order. One at a time: they share the machine's two cores.
@Suite(.serialized) struct FaultsAtLoadTests {
    static let pairs = 200
    static let rate = 2000
    static let duration: Duration = .seconds(12)

    /// Runs the load and, once messages flow, `fault`; returns the load test's report.
    func underLoad(environment: [String: String] = [:], fault: @escaping @Sendable (Cluster) async throws -> Void) async throws {
        try await Cluster.run(environment: environment.merging(["LOG_LEVEL": "warning"]) { _, new in new }) { cluster in
            let one = cluster.one
            let injected = Task {
                try await eventually(timeout: .seconds(20), "messages flow") {
                    ((try? await one.metric(#"whisper_messages_total{type="received"}"#)) ?? 0) > 2000
                }
                try await fault(cluster)
            }
            let urls = [cluster.one, cluster.two].flatMap { ["--url", "ws://127.0.0.1:\($0.port)/ws"] }
            let arguments = [
                "loadtest", "--connections", "\(Self.pairs * 2)", "--chatting-pairs", "\(Self.pairs)", "--rate", "\(Self.rate)",
                "--duration", "\(Self.duration.components.seconds)s", "--ramp", "1s", "--json",
            ]
            let run = try await Offload.run {
                try Command.capture(ProductBinary.path("whisperctl"), arguments + urls, environment: ["PATH": "/usr/bin:/bin"], directory: "/")
            }
            try await injected.value
            let report = try JSONValue.parse(Array(run.stdout.utf8))
            let summary = "\(report.serialized())\n\(run.stderr.suffix(2000))"
            #expect(report["lost"] == .int(0), "\(summary)")
            #expect(report["duplicated"] == .int(0), "\(summary)")
            #expect(report["out_of_order"] == .int(0), "\(summary)")
            #expect(report["resume_failures"] == .int(0), "\(summary)")
            let sent = report["sent"]?.intValue ?? 0
            #expect(Double(sent) >= 0.9 * Double(Self.rate) * Self.duration.seconds, "the load happened: \(summary)")
            #expect(run.status == 0, "\(summary)")
            print("fault at load: \(report.serialized())")
            if run.status != 0 || report["resumed"] != .int(0) {
                print("ws-one log:\n\(cluster.one.process.logTail)\nws-two log:\n\(cluster.two.process.logTail)")
                for server in [cluster.one, cluster.two] {
                    let text = (try? await HTTPClient().get(server.baseURL + "/metrics").text) ?? ""
                    print(text.split(separator: "\n").filter { $0.hasPrefix("whisper_disconnections_total{") || $0.hasPrefix("whisper_messages_total") }.joined(separator: "\n"))
                }
            }
        }
    }

    @Test func natsStalledForSevenSeconds() async throws {
        try await underLoad { cluster in
            cluster.nats.process.pause()
            try await Task.sleep(for: .seconds(7))
            cluster.nats.process.resume()
        }
    }

    @Test func natsKilledAndRestarted() async throws {
        try await underLoad { cluster in
            await cluster.nats.kill()
            try await Task.sleep(for: .seconds(2))
            try await cluster.nats.restart()
        }
    }

    @Test func redisStalledForFiveSeconds() async throws {
        try await underLoad { cluster in
            cluster.redis.process.pause()
            try await Task.sleep(for: .seconds(5))
            cluster.redis.process.resume()
        }
    }

    @Test func redisKilledAndRestartedEmpty() async throws {
        try await underLoad { cluster in
            await cluster.redis.kill()
            try await Task.sleep(for: .seconds(2))
            try await cluster.redis.restart()
        }
    }

    @Test func oneInstanceDrained() async throws {
        try await underLoad(environment: ["DRAIN_SPREAD": "2s", "DRAIN_GRACE": "0s"]) { cluster in
            cluster.one.process.signal(SIGTERM)
            let process = cluster.one.process
            let status = try await Offload.run { process.waitForExitCode(timeout: .seconds(30)) }
            #expect(status == 0, "the drained instance exits 0")
        }
    }

    @Test func oneInstanceKilledWithSIGKILL() async throws {
        try await underLoad { cluster in
            let process = cluster.one.process
            try await Offload.run { process.kill9() }
        }
    }
}
