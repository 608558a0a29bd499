import Foundation

/// `diag server`: each whisper-server's /health checks and drain state, and from two /metrics
/// samples an interval apart: rejections and disconnections by reason, delivery p99, memory per
/// connection, open files against the limit.
public struct ServerDiagnosis: Sendable {
    public var entry: ServerEntry
    public var interval: Duration

    public init(entry: ServerEntry, interval: Duration = .seconds(2)) {
        self.entry = entry
        self.interval = interval
    }

    public func run(in environment: ProbeEnvironment) async -> [Finding] {
        let base = entry.url.hasSuffix("/") ? String(entry.url.dropLast()) : entry.url
        let name = "server \(entry.name)"
        func metrics() async throws -> [MetricFamily] {
            let response = try await environment.http.get(base + "/metrics", timeout: environment.timeout)
            guard response.isSuccess else { throw OpsError(.serverError, "/metrics answered HTTP \(response.status)", endpoint: base) }
            do { return try PrometheusTextParser.parse(response.body) } catch { throw OpsError(.protocolError, "/metrics: \(error)", endpoint: base) }
        }
        let health: JSONValue
        let first: [MetricFamily]
        do {
            let response = try await environment.http.get(base + "/health", timeout: environment.timeout)
            health = (try? JSONValue.parse(response.body)) ?? .null
            first = try await metrics()
        } catch {
            return [Finding(
                name, "reachable", .critical, "\(entry.name) does not answer at \(base)", observed: "\(error)", source: GuideSection.operations,
                fix: "systemctl status / docker compose ps for \(entry.name); its log; LISTEN_ADDR")]
        }
        try? await Task.sleep(for: interval)
        guard let second = try? await metrics() else {
            return [Finding(name, "metrics", .unknown, "the second /metrics sample failed", observed: base)]
        }
        return evaluate(health: health, first: first, second: second)
    }

    public func evaluate(health: JSONValue, first: [MetricFamily], second: [MetricFamily]) -> [Finding] {
        let name = "server \(entry.name)"
        var findings: [Finding] = []
        func value(_ set: [MetricFamily], _ metric: String) -> Double? {
            set.first { $0.name == metric }?.samples.first { $0.name == metric }.map(\.value)
        }
        func byReason(_ set: [MetricFamily], _ metric: String) -> [String: Double] {
            var out: [String: Double] = [:]
            for sample in set.first(where: { $0.name == metric })?.samples ?? [] { out[sample.label("reason") ?? "?", default: 0] += sample.value }
            return out
        }
        let status = health["status"]?.stringValue ?? "?"
        let failing = ServerProbe.failingChecks(in: health)
        let connections = health["connections"]?.intValue ?? Int(value(second, "whisper_connections_total") ?? 0)
        findings.append(Finding(
            name, "health", status == "unhealthy" ? .critical : (status == "degraded" ? .warning : .ok),
            status == "healthy" ? "\(entry.name) healthy" : "\(entry.name) is \(status)",
            observed: "\(connections) connections, version \(health["version"]?.stringValue ?? "?")" + (failing.isEmpty ? "" : "; failing: " + failing.joined(separator: ", ")),
            fix: failing.isEmpty ? nil : "whisperctl diag redis / nats / postgres for the failing dependency"))
        if health["draining"]?.boolValue == true {
            findings.append(Finding(name, "draining", .warning, "\(entry.name) is draining: it takes no new users and will exit",
                observed: "/health draining true", fix: "expected during a rollout; otherwise start it again"))
        }
        let seconds = interval.seconds
        let rejectedBefore = byReason(first, "whisper_connections_rejected_total")
        let rejected = byReason(second, "whisper_connections_rejected_total").compactMap { reason, count -> (String, Int)? in
            let delta = Int(count - (rejectedBefore[reason] ?? 0))
            return delta > 0 ? (reason, delta) : nil
        }
        if !rejected.isEmpty {
            let fixes = ["max_connections": "raise MAX_CONNECTIONS or add an instance (whisperctl capacity)",
                         "max_conns_per_ip": "behind HAProxy: option forwardfor and TRUSTED_PROXIES (docs/cluster.md)",
                         "unavailable": "a dependency is down: whisperctl diag redis / nats", "banned": "expected for banned addresses"]
            findings.append(Finding(
                name, "rejections", .warning, "\(entry.name) refused connections in the last \(interval.humanReadable)",
                observed: rejected.sorted { $0.1 > $1.1 }.map { "\($0.0) \($0.1)" }.joined(separator: ", "),
                fix: rejected.compactMap { fixes[$0.0] }.joined(separator: "; ")))
        }
        let closedBefore = byReason(first, "whisper_disconnections_total")
        let abnormal = byReason(second, "whisper_disconnections_total").compactMap { reason, count -> (String, Int)? in
            let delta = Int(count - (closedBefore[reason] ?? 0))
            return delta > 0 && !["client_closed", "left", "normal", "going_away", "drained"].contains(reason) ? (reason, delta) : nil
        }
        if !abnormal.isEmpty {
            findings.append(Finding(name, "disconnections", .info, "connections closed by the server in the last \(interval.humanReadable)",
                observed: abnormal.sorted { $0.1 > $1.1 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")))
        }
        if let earlier = first.first(where: { $0.name == "whisper_message_latency_seconds" }), let later = second.first(where: { $0.name == "whisper_message_latency_seconds" }) {
            let window = MetricMath.delta(MetricMath.buckets(of: earlier), MetricMath.buckets(of: later))
            let count = window.map(\.count).max() ?? 0
            if count > 0 {
                let p99 = MetricMath.histogramQuantile(0.99, buckets: window)
                findings.append(Finding(
                    name, "delivery-p99", p99 > 0.1 ? .warning : .ok, "delivery p99",
                    observed: String(format: "%.2f ms over %.0f messages (%.0f/s)", p99 * 1000, count, count / seconds),
                    recommended: "under 100 ms (10K tier)", source: p99 > 0.1 ? GuideSection.alerts : nil))
            } else {
                findings.append(Finding(name, "delivery-p99", .ok, "delivery p99", observed: "- (nothing delivered in \(interval.humanReadable))"))
            }
        }
        if let rss = value(second, "process_resident_memory_bytes") {
            let per = connections > 0 ? " (\(ByteCount.format(Int(rss) / connections)) per connection, all included)" : ""
            var severity = Finding.Severity.ok
            var observed = "RSS \(ByteCount.format(Int(rss)))\(per)"
            if let limit = value(second, "whisper_memory_limit_bytes"), limit > 0 {
                observed += " of a \(ByteCount.format(Int(limit))) limit"
                if rss / limit >= 0.9 { severity = .warning }
            }
            findings.append(Finding(name, "memory", severity, severity == .ok ? "memory" : "memory near the container's limit", observed: observed,
                fix: severity == .ok ? nil : "raise the container's memory limit, or move connections to another instance"))
        }
        if let open = value(second, "process_open_fds"), let limit = value(second, "process_max_fds"), limit > 0 {
            let ratio = open / limit
            let maxConnections = health["max_connections"]?.intValue
            let tooLow = maxConnections.map { Double($0) + 1024 > limit } ?? false
            // One figure for the recommendation and the fix.
            let nofile = max(65_536, (maxConnections ?? 0) + 1024)
            findings.append(Finding(
                name, "open-files", ratio >= 0.8 || tooLow ? .warning : .ok,
                tooLow ? "its open-files limit is below what MAX_CONNECTIONS needs" : "open files",
                observed: "\(Int(open)) open of \(Int(limit))" + (maxConnections.map { ", MAX_CONNECTIONS \($0)" } ?? ""),
                recommended: maxConnections.map { _ in "at least \(nofile)" }, source: tooLow ? GuideSection.limits : nil,
                fix: tooLow ? "systemd: LimitNOFILE=\(nofile); Compose: ulimits: {nofile: {soft: \(nofile), hard: \(nofile)}}" : nil))
        }
        return findings
    }
}
