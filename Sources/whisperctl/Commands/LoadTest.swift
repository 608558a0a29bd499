import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import OpsKit

struct LoadTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Load a deployment through the real chat protocol and measure delivery.",
        discussion: """
            Opens --connections over --ramp, pairs 2 × --chatting-pairs of them, sends --rate messages per second \
            for --duration, and checks each delivery (sequence numbers, send timestamps).

            The run passes only when the load it promised happened: every connection opened and every chatting \
            client matched, the rate was sent, and nothing was lost, duplicated or reordered. A failure says why \
            first, with what the servers counted (/metrics) and what the clients were told (429, 503, rate_limited).
            The server's default limit is 200 messages per 10 s per connection: keep --rate / (2 × --chatting-pairs) \
            at or under 20. Through HAProxy see docs/loadtest.md (X-Forwarded-For and TRUSTED_PROXIES).

            Exit status: 0 passed, 1 failed (or interrupted: Ctrl-C prints the partial report).

            Examples:
              whisperctl loadtest --url ws://127.0.0.1:8080/ws --connections 2000 --chatting-pairs 1000 --rate 10000
              whisperctl loadtest --url ws://ws1:8080/ws --url ws://ws2:8080/ws --duration 30s --json
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

    @Option(help: ArgumentHelp(
        "A server's /metrics to read its figures from (repeat it; default: the inventory's servers, else each --url's own). Never a proxy's.",
        valueName: "http://host:port/metrics"))
    var metrics: [String] = []

    /// Through HAProxy, the target's /metrics is whichever backend answers: the servers' own
    /// figures come from each server the inventory names.
    static func metricsSources(explicit: [String], plan: LoadTestPlan) -> [String] {
        if !explicit.isEmpty { return explicit }
        // No inventory here is the usual case for a load test: the targets' own pages then.
        if let inventory = try? InventoryLoader().load(), !inventory.describesNothing, !inventory.servers.isEmpty {
            return inventory.servers.map(\.metricsURL)
        }
        return plan.metricsURLs
    }

    func run() async throws {
        var plan: LoadTestPlan
        do {
            plan = try LoadTestPlan(
                urls: url.isEmpty ? ["ws://127.0.0.1:8080/ws"] : url, connections: connections, chattingPairs: chattingPairs, rate: rate,
                duration: duration, ramp: ramp, threads: threads)
        } catch let error as OpsError {
            throw ValidationError(error.message)
        }
        if plan.ratePerClient > LoadTestPlan.defaultServerLimitPerClient {
            printError(String(
                format: "warning: %.1f messages per second per client is over the server's default limit (20/s): expect rate_limited unless MAX_MSGS_PER_10S is raised",
                plan.ratePerClient))
        }
        plan.metricsURLs = Self.metricsSources(explicit: metrics, plan: plan)
        FileLimit.raiseToHardLimit()
        let engine = LoadTestEngine(plan: plan)
        // Ctrl-C stops the run and still prints what was measured.
        let interrupt = SignalTrap([SIGINT]) { _ in engine.stop() }
        defer { interrupt.remove() }
        let tty = isatty(STDERR_FILENO) == 1 && !json
        let showProgress: @Sendable (LoadTestProgress) -> Void = { progress in
            let line = "\(progress.phase): \(progress.connections) connected, \(progress.failed) failed, "
                + "\(progress.sent) sent, \(progress.delivered) delivered, \(progress.errors) errors"
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
        }
        let report = try await engine.run(progress: tty ? showProgress : nil)
        if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print(json ? report.json.prettyPrinted() : render(report))
        if !report.passed { throw ExitStatus.notPassed }
    }

    private func render(_ report: LoadTestReport) -> String {
        func ms(_ micros: UInt64) -> String { String(format: "%.2f ms", Double(micros) / 1000) }
        func rate(_ value: Double?) -> String { value.map { "\(Int($0))/s" } ?? "-" }
        var lines: [String] = []
        let problems = report.problems
        if problems.isEmpty {
            lines.append("PASSED")
        } else {
            lines.append((report.partial ? "PARTIAL" : "FAILED") + ": " + problems[0])
            lines += problems.dropFirst().map { "  also: \($0)" }
        }
        lines += [
            "connections   \(report.connections) (\(report.connectErrors) failed, \(rate(report.connectRate))), \(report.matched) matched",
            "messages      sent \(report.sent) (\(rate(report.achievedRate))), delivered \(report.delivered), lost \(report.lost), in flight \(report.inFlight), duplicated \(report.duplicated), out of order \(report.outOfOrder)"
                + (report.foreign > 0 ? ", foreign \(report.foreign)" : ""),
            "backpressure  \(report.heldBack) sends held back by a full ack window (\(LoadTestReport.ackWindow) unacknowledged per client)",
            "resumes       \(report.resumed) resumed, \(report.resumeFailures) failed"
                + (report.resumeMicroseconds.map { r in " (took p50 \(ms(r.p50)), p99 \(ms(r.p99)), max \(ms(r.max)))" } ?? ""),
            "latency       " + (report.latencyMicroseconds.map { l in "p50 \(ms(l.p50))  p95 \(ms(l.p95))  p99 \(ms(l.p99))  max \(ms(l.max))" } ?? "-"),
        ]
        if !report.serverRejections.isEmpty || !report.serverDisconnections.isEmpty {
            func list(_ map: [String: Int]) -> String { map.isEmpty ? "none" : map.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") }
            lines.append("servers       refused \(list(report.serverRejections)); closed \(list(report.serverDisconnections))")
        }
        lines.append("server RSS    " + (report.serverBytesPerConnection.map { String(format: "%.2f KiB per connection", $0 / 1024) } ?? "-"))
        lines.append("server CPU    " + (report.serverCPUPer10kMessages.map { String(format: "%.3f s per 10,000 messages", $0) } ?? "-"))
        if !report.serverMetricsFrom.isEmpty { lines.append("server figures from " + report.serverMetricsFrom.joined(separator: ", ")) }
        if let note = report.serverFiguresNote { lines.append("  - " + note) }
        return lines.joined(separator: "\n")
    }
}
