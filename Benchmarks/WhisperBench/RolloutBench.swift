import Foundation
import NIOConcurrencyHelpers
import OpsKit
import TestSupport

/// `whisperctl rollout` replacing two servers that hold `connections` clients through HAProxy,
/// while `whisperctl loadtest` chats at `rate`: the rollout's time, delivery p99 on the servers
/// before, during and after, the clients' resumes and what they lost.
enum RolloutBench {
    /// The servers' relay-latency histogram, added up per phase across scrapes (and restarts).
    final class LatencyPhases: Sendable {
        private let state = NIOLockedValueBox<(phase: String, buckets: [String: [Double: Double]], last: [String: [(le: Double, count: Double)]])>(("before", [:], [:]))

        func enter(_ phase: String) { state.withLockedValue { $0.phase = phase } }

        func add(server: String, families: [MetricFamily]) {
            guard let family = families.first(where: { $0.name == "whisper_message_latency_seconds" }) else { return }
            let now = MetricMath.buckets(of: family)
            state.withLockedValue { state in
                let delta = MetricMath.delta(state.last[server] ?? now.map { ($0.le, 0) }, now)
                state.last[server] = now
                for bucket in delta { state.buckets[state.phase, default: [:]][bucket.le, default: 0] += bucket.count }
            }
        }

        func p99(_ phase: String) -> (p99: Double, count: Double)? {
            let buckets = state.withLockedValue { $0.buckets[phase] ?? [:] }.map { (le: $0.key, count: $0.value) }
            let count = buckets.map(\.count).max() ?? 0
            return count > 0 ? (MetricMath.histogramQuantile(0.99, buckets: buckets), count) : nil
        }
    }

    static func run(connections: Int, rate: Int) async throws {
        let fleet = try await RolloutFleet(environment: ["DRAIN_SPREAD": "5s", "MAX_MSGS_PER_10S": "1000"])
        try fleet.writeInventory(version: "0.2.0")
        let directory = fleet.directory
        let frontend = "ws://127.0.0.1:\(fleet.haproxy.frontendPort)/ws"
        let whisperctl = ProductBinary.path("whisperctl")
        let phases = LatencyPhases()
        let sampler = Task {
            let observer = FleetObserver(
                servers: fleet.names.map { ServerEntry(name: $0, url: "http://127.0.0.1:\(fleet.ports[$0]!)", source: .builtInDefault) },
                runtime: try HAProxyRuntimeAPI(parsing: fleet.haproxy.runtimeSocket), backend: fleet.haproxy.backend)
            while !Task.isCancelled {
                for entry in observer.servers {
                    if let families = try? await observer.metrics(entry) { phases.add(server: entry.name, families: families) }
                }
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        let load = Task {
            try await Offload.run {
                try Command.capture(
                    whisperctl,
                    ["loadtest", "--url", frontend, "--connections", "\(connections)", "--chatting-pairs", "\(connections / 2)", "--rate", "\(rate)",
                     "--duration", "75s", "--ramp", "5s", "--json"],
                    environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path], directory: directory.path)
            }
        }
        try await Task.sleep(for: .seconds(20))
        phases.enter("during")
        let rollout = try await Offload.run {
            try Command.capture(whisperctl, ["rollout", "--yes", "--expect-version", "0.2.0", "--soak", "5s", "--max-p99", "1s", "--json"],
                environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path], directory: directory.path)
        }
        phases.enter("after")
        let run = try await load.value
        sampler.cancel()
        await fleet.stop()
        let finish = rollout.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }.last
        let report = try JSONValue.parse(Array(run.stdout.utf8))
        func show(_ phase: String) -> String {
            phases.p99(phase).map { String(format: "%.2f ms (%.0f messages)", $0.p99 * 1000, $0.count) } ?? "-"
        }
        print("rollout of 2 servers holding \(report["connections"]?.intValue ?? 0) connections at \(rate) msg/s: exit \(rollout.status), "
            + String(format: "%.1f s", finish?["seconds"]?.doubleValue ?? .nan))
        print("  server delivery p99: before \(show("before")), during \(show("during")), after \(show("after"))")
        let resume = report["resume_ms"]
        print("  clients: resumed \(report["resumed"]?.intValue ?? 0) (p50 \(resume?["p50"]?.doubleValue ?? .nan) ms, p99 \(resume?["p99"]?.doubleValue ?? .nan) ms, max \(resume?["max"]?.doubleValue ?? .nan) ms), resume failures \(report["resume_failures"]?.intValue ?? -1)")
        print("  messages: sent \(report["sent"]?.intValue ?? 0), lost \(report["lost"]?.intValue ?? -1), duplicated \(report["duplicated"]?.intValue ?? -1), out of order \(report["out_of_order"]?.intValue ?? -1); end-to-end p99 \(report["latency_ms"]?["p99"]?.doubleValue ?? .nan) ms; loadtest exit \(run.status)")
        if rollout.status != 0 { print(rollout.stdout.suffix(3000), rollout.stderr) }
    }
}
