import Foundation
import OpsKit
import TestSupport
import Testing

/// How loaded the machine is while a fault scenario runs.
enum Saturation: String, CaseIterable, CustomTestStringConvertible, Sendable {
    /// Release servers and generator at a rate the machine sustains with room to spare: the
    /// generator must also reach the rate it was asked for.
    case none
    /// The debug whisper-server, several times slower per message, at the same rate: the servers
    /// cannot keep up, and push back.
    case slowServers
    /// Release servers sharing the machine with a busy process on every core.
    case busyMachine

    var testDescription: String { rawValue }
}

/// Every single-component fault, at load: two instances sharing Redis and NATS, 200 pairs split
/// across them at 2,000 msg/s through the release `whisperctl loadtest`, and its accounting must
/// show nothing lost, duplicated, out of order or left in flight, and every client whose server
/// went away resumed. Each also runs with the servers saturated, where latency may grow and the
/// generator may be slowed down by the servers' acks, but nothing may be lost. One at a time:
/// they share the machine's two cores.
@Suite(.serialized) struct FaultsAtLoadTests {
    static let pairs = 200
    static let rate = 2000
    static let duration: Duration = .seconds(12)

    /// Runs the load and, once messages flow, `fault`; checks the load test's report.
    /// - Parameters:
    ///   - moves: clients whose connection the fault ends, who must all resume.
    ///   - acksHeld: how long the fault keeps Redis from taking writes: acks wait for the resume
    ///     buffer, so the generator is pushed back that long and sends that much less.
    func underLoad(
        _ saturation: Saturation, environment: [String: String] = [:], moves: Int = 0, acksHeld: Duration = .zero, natsNodes: Int = 1,
        fault: @escaping @Sendable (Cluster) async throws -> Void
    ) async throws {
        let serverBinary = saturation == .slowServers ? WhisperServerProcess.binary : try ProductBinary.release("whisper-server")
        let generator = try ProductBinary.release("whisperctl")
        // The production resume window (60 s): the guarantee holds within it (docs/cluster.md).
        let variables = ["LOG_LEVEL": "warning", "RESUME_WINDOW": "60s"].merging(environment) { _, new in new }
        let busy = saturation == .busyMachine ? try BusyLoop.start(on: ProcessInfo.processInfo.activeProcessorCount) : []
        defer { for loop in busy { loop.kill9() } }
        try await Cluster.run(environment: variables, serverBinary: serverBinary, natsNodes: natsNodes) { cluster in
            let urls = [cluster.one, cluster.two].flatMap { ["--url", "ws://127.0.0.1:\($0.port)/ws"] }
            let arguments = [
                "loadtest", "--connections", "\(Self.pairs * 2)", "--chatting-pairs", "\(Self.pairs)", "--rate", "\(Self.rate)",
                "--duration", "\(Self.duration.components.seconds)s", "--ramp", "1s", "--json",
            ]
            async let load = Offload.run {
                try Command.capture(generator, arguments + urls, environment: ["PATH": "/usr/bin:/bin"], directory: "/")
            }
            let one = cluster.one
            try await eventually(timeout: .seconds(60), "messages flow") {
                ((try? await one.metric(#"whisper_messages_total{type="received"}"#)) ?? 0) > 2000
            }
            try await fault(cluster)
            let run = try await load
            let report = try JSONValue.parse(Array(run.stdout.utf8))
            let summary = "\(saturation): \(report.serialized())\n\(run.stderr.suffix(2000))"
            print("fault at load (\(saturation)): \(report.serialized())")
            #expect(report["lost"] == .int(0), "\(summary)")
            #expect(report["in_flight"] == .int(0), "\(summary)")
            #expect(report["duplicated"] == .int(0), "\(summary)")
            #expect(report["out_of_order"] == .int(0), "\(summary)")
            #expect(report["resume_failures"] == .int(0), "\(summary)")
            #expect((report["resumed"]?.intValue ?? 0) >= moves, "every client of the server that went away resumed: \(summary)")
            let sent = Double(report["sent"]?.intValue ?? 0)
            let asked = Double(Self.rate) * (Self.duration - acksHeld).seconds
            if saturation == .none {
                #expect(sent >= 0.9 * asked, "the load happened: \(summary)")
                // Pushed back by held acks, the run may report the lower rate, and only that.
                if acksHeld == .zero { #expect(run.status == 0, "\(summary)") }
            } else {
                // Pushed back, the generator sends less; still a load the servers could not keep up with.
                #expect(sent >= 0.2 * asked, "the load happened: \(summary)")
            }
            if report["passed"] != .bool(true) || report["resumed"] != .int(0) {
                print("ws-one log:\n\(cluster.one.process.logTail)\nws-two log:\n\(cluster.two.process.logTail)")
            }
        }
    }

    @Test(arguments: Saturation.allCases) func natsStalledForSevenSeconds(_ saturation: Saturation) async throws {
        try await underLoad(saturation) { cluster in
            cluster.nats.process.pause()
            try await Task.sleep(for: .seconds(7))
            cluster.nats.process.resume()
        }
    }

    @Test(arguments: Saturation.allCases) func natsKilledAndRestarted(_ saturation: Saturation) async throws {
        try await underLoad(saturation) { cluster in
            await cluster.nats.kill()
            try await Task.sleep(for: .seconds(2))
            try await cluster.nats.restart()
        }
    }

    /// A node of a 3-node NATS cluster dies for good: ws-one was on it and moves to the next node
    /// of its NATS_URL; ws-two, on another node, keeps going; chats continue over the routes.
    @Test(arguments: Saturation.allCases) func natsClusterNodeKilled(_ saturation: Saturation) async throws {
        try await underLoad(saturation, natsNodes: 3) { cluster in
            await cluster.natsNodes[0].kill()
            try await eventually(timeout: .seconds(20), "ws-one on another NATS node") {
                let connz = try? await HTTPClient().get(cluster.natsNodes[1].monitorURL + "/connz")
                let named = (connz.flatMap { try? JSONValue.parse($0.body) }?["connections"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
                return named.contains("ws-one")
            }
        }
    }

    @Test(arguments: Saturation.allCases) func redisStalledForFiveSeconds(_ saturation: Saturation) async throws {
        try await underLoad(saturation, acksHeld: .seconds(5)) { cluster in
            cluster.redis.process.pause()
            try await Task.sleep(for: .seconds(5))
            cluster.redis.process.resume()
        }
    }

    @Test(arguments: Saturation.allCases) func redisKilledAndRestartedEmpty(_ saturation: Saturation) async throws {
        try await underLoad(saturation, acksHeld: .seconds(3)) { cluster in
            await cluster.redis.kill()
            try await Task.sleep(for: .seconds(2))
            try await cluster.redis.restart()
        }
    }

    @Test(arguments: Saturation.allCases) func oneInstanceDrained(_ saturation: Saturation) async throws {
        try await underLoad(saturation, environment: ["DRAIN_SPREAD": "2s", "DRAIN_GRACE": "0s"], moves: Self.pairs) { cluster in
            cluster.one.process.signal(SIGTERM)
            let process = cluster.one.process
            let status = try await Offload.run { process.waitForExitCode(timeout: .seconds(60)) }
            #expect(status == 0, "the drained instance exits 0")
        }
    }

    @Test(arguments: Saturation.allCases) func oneInstanceKilledWithSIGKILL(_ saturation: Saturation) async throws {
        try await underLoad(saturation, moves: Self.pairs) { cluster in
            let process = cluster.one.process
            try await Offload.run { process.kill9() }
        }
    }
}

/// A process that keeps one core busy, for runs on a machine that is not idle.
enum BusyLoop {
    static func start(on cores: Int) throws -> [ServiceProcess] {
        try (0..<max(1, cores)).map { index in
            try ServiceProcess(name: "busy-\(index)", executable: "/bin/sh", arguments: ["-c", "while :; do :; done"], logPath: "/dev/null")
        }
    }
}
