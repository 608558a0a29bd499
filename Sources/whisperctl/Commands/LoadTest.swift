import ArgumentParser
import Foundation
import OpsKit

struct LoadTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Load a deployment through the real chat protocol and measure delivery.",
        discussion: """
            Opens --connections over --ramp, pairs 2 × --chatting-pairs of them, sends --rate messages per second \
            for --duration, and checks each delivery (sequence numbers, send timestamps).
            Exit status: 0 when nothing was lost or duplicated, 1 otherwise.
            """
    )

    @Option(
        help: ArgumentHelp(
            "A WebSocket endpoint; repeat it to spread clients over several servers (partners then sit on different ones).",
            valueName: "ws://host:port/ws"))
    var url: [String] = []

    @Option(help: "Connections to open.")
    var connections: Int = 100

    @Option(name: .customLong("chatting-pairs"), help: "Pairs of connections that chat; the rest stay idle.")
    var chattingPairs: Int = 10

    @Option(help: "Messages per second across all chatting connections.")
    var rate: Int = 100

    @Option(help: ArgumentHelp("How long messages flow, e.g. 10s.", valueName: "duration"))
    var duration: Duration = .seconds(10)

    @Option(help: ArgumentHelp("Open the connections evenly over this long.", valueName: "duration"))
    var ramp: Duration = .seconds(2)

    @Option(help: "Event loop threads of the generator.")
    var threads: Int = 1

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        let plan: LoadTestPlan
        do {
            plan = try LoadTestPlan(
                urls: url.isEmpty ? ["ws://127.0.0.1:8080/ws"] : url, connections: connections, chattingPairs: chattingPairs, rate: rate, duration: duration, ramp: ramp,
                threads: threads)
        } catch let error as OpsError {
            throw ValidationError(error.message)
        }
        FileLimit.raiseToHardLimit()
        let report = try await LoadTestEngine(plan: plan).run()
        if json {
            print(report.json.prettyPrinted())
        } else {
            print(render(report))
        }
        if !report.passed { throw ExitCode(1) }
    }

    private func render(_ report: LoadTestReport) -> String {
        let l = report.latencyMicroseconds
        func ms(_ micros: UInt64) -> String { String(format: "%.2f ms", Double(micros) / 1000) }
        var lines = [
            "connections   \(report.connections) (\(report.connectErrors) errors, \(Int(report.connectRate))/s)",
            "messages      sent \(report.sent) (\(Int(report.achievedRate))/s), delivered \(report.delivered), lost \(report.lost), duplicated \(report.duplicated), out of order \(report.outOfOrder)",
            "resumes       \(report.resumed) resumed, \(report.resumeFailures) failed",
            "latency       p50 \(ms(l.p50))  p95 \(ms(l.p95))  p99 \(ms(l.p99))  max \(ms(l.max))",
        ]
        if let bytes = report.serverBytesPerConnection {
            lines.append(String(format: "server RSS    %.2f KiB per connection", bytes / 1024))
        }
        if let cpu = report.serverCPUPer10kMessages {
            lines.append(String(format: "server CPU    %.3f s per 10,000 messages", cpu))
        }
        lines.append(report.passed ? "PASSED" : "FAILED: messages were lost or duplicated, or a session could not be resumed")
        return lines.joined(separator: "\n")
    }
}

/// A load generator holds one descriptor per connection: lift the soft limit to the hard one.
enum FileLimit {
    static func raiseToHardLimit() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}
