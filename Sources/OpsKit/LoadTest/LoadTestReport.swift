import Foundation

/// What a load test measured, and its verdict: it passes only when the load it promised happened
/// and every message arrived once, in order. Figures that were not measured are nil.
public struct LoadTestReport: Sendable {
    public var plan: LoadTestPlan?
    public var connections = 0
    public var connectErrors = 0
    /// Why connections failed: "connection refused", "HTTP 429", "no answer to the upgrade ...".
    var connectFailures: [String: Int] = [:]
    public var connectRate: Double?
    /// Chatting clients that were matched with their partner.
    public var matched = 0
    public var sent = 0
    public var delivered = 0
    public var duplicated = 0
    public var outOfOrder = 0
    /// Messages from partners the load client did not write (real users matched by fallback).
    public var foreign = 0
    /// Sent, never acknowledged by a server and never delivered when the wait ended: the server
    /// never took them, so they are not counted lost (a real client sends them again).
    public var inFlight = 0
    /// How long the run waited, after sending stopped, for what was still in flight.
    public var settled: Duration = .zero
    /// Turns to send that a client skipped because it had `LoadClient.ackWindow` messages
    /// unacknowledged: how hard the servers pushed back.
    public var heldBack = 0
    public var resumed = 0
    /// Clients whose session could not be resumed after their connection ended (or were still
    /// trying when the run ended).
    public var resumeFailures = 0
    /// How long a resume took, from the connection's end to the resumed welcome.
    public var resumeMicroseconds: (p50: UInt64, p99: UInt64, max: UInt64)?
    /// `error` codes clients received, and the close codes of the servers' close frames.
    var errorCodes: [String: Int] = [:]
    var closeCodes: [Int: Int] = [:]
    /// What the servers counted meanwhile on /metrics, by reason.
    public var serverRejections: [String: Int] = [:]
    public var serverDisconnections: [String: Int] = [:]
    public var latencyMicroseconds: (p50: UInt64, p95: UInt64, p99: UInt64, max: UInt64)?
    /// Server RSS growth per connection during the ramp, read from its /metrics.
    public var serverBytesPerConnection: Double?
    /// Server CPU seconds spent while messages flowed, per 10,000 messages.
    public var serverCPUPer10kMessages: Double?
    /// The /metrics pages the server figures come from.
    public var serverMetricsFrom: [String] = []
    /// Why a server figure is missing (a server restarted during the run), when it is.
    public var serverFiguresNote: String?
    public var elapsed: Duration = .zero
    /// Messages per second the generator actually sent.
    public var achievedRate: Double?
    /// Interrupted (Ctrl-C): the figures cover what ran.
    public var partial = false

    public init() {}

    /// Messages a client keeps unacknowledged at most before it waits.
    public static var ackWindow: Int { LoadClient.ackWindow }

    /// Acknowledged (or given up with a session that could not be resumed) and never delivered.
    public var lost: Int { max(0, sent - delivered - inFlight) }

    /// Why the run failed, most telling first; empty when it passed.
    public var problems: [String] {
        var problems: [String] = []
        if partial { problems.append("interrupted: the figures are partial") }
        if connectErrors > 0 {
            let reasons = connectFailures.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            problems.append("\(connectErrors) of \(connections + connectErrors) connections failed (\(reasons))" + hint(forFailures: connectFailures))
        }
        if let plan {
            let chatting = plan.chattingPairs * 2
            let chattingConnected = chatting - min(chatting, connectErrors)
            if matched < chattingConnected { problems.append("\(chattingConnected - matched) chatting clients were never matched") }
            if plan.rate > 0, plan.chattingPairs > 0, !partial {
                let achieved = achievedRate ?? 0
                if achieved < 0.9 * Double(plan.rate) {
                    problems.append(String(format: "sent %.0f msg/s of the %d asked", achieved, plan.rate))
                }
                if sent == 0 { problems.append("no message was sent") }
            }
        }
        if lost > 0 { problems.append("\(lost) messages lost") }
        if inFlight > 0 {
            problems.append(
                "\(inFlight) messages still in flight after waiting \(Int(settled.seconds.rounded())) s: sent, never acknowledged and not delivered (not counted as lost)")
        }
        if duplicated > 0 { problems.append("\(duplicated) messages duplicated") }
        if outOfOrder > 0 { problems.append("\(outOfOrder) messages out of order") }
        if resumeFailures > 0 { problems.append("\(resumeFailures) sessions could not be resumed") }
        if let limited = errorCodes["rate_limited"], limited > 0 {
            let perClient = plan.map { String(format: " (%.1f msg/s per client)", $0.ratePerClient) } ?? ""
            problems.append(
                "\(limited) messages refused with rate_limited\(perClient): the server allows MAX_MSGS_PER_10S (200 by default) per connection; lower --rate or raise the limit")
        }
        if let policy = closeCodes[1008], policy > 0 { problems.append("\(policy) connections closed by the server for policy (1008, e.g. continued rate abuse)") }
        return problems
    }

    public var passed: Bool { problems.isEmpty }

    /// What the servers' own counters say about refused upgrades, in operator terms.
    private func hint(forFailures failures: [String: Int]) -> String {
        var hints: [String] = []
        if failures["HTTP 429"] != nil || serverRejections["max_conns_per_ip"] != nil {
            hints.append(
                "429 is the per-IP limit MAX_CONNS_PER_IP (50 by default); behind HAProxy every client shares its address: "
                    + "enable `option forwardfor` in HAProxy and set TRUSTED_PROXIES on the servers (docs/loadtest.md)")
        }
        if failures["HTTP 503"] != nil {
            let reasons = serverRejections.filter { ["max_connections", "draining", "unavailable"].contains($0.key) }
                .map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            hints.append("503: the server is draining, at MAX_CONNECTIONS or without Redis/NATS" + (reasons.isEmpty ? "" : " (it counted \(reasons))"))
        }
        if failures["HTTP 403"] != nil { hints.append("403: the client address is banned") }
        if failures.keys.contains(where: { $0.hasPrefix("no answer") }) {
            hints.append("the endpoint accepts TCP but does not speak HTTP/WebSocket: a wrong port, or a stalled server")
        }
        if failures["connection refused"] != nil { hints.append("nothing listens there") }
        return hints.isEmpty ? "" : ": " + hints.joined(separator: "; ")
    }

    /// p50, p99 and max of a handful of samples (nil for none).
    static func quantiles(_ samples: [UInt64]) -> (p50: UInt64, p99: UInt64, max: UInt64)? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        func at(_ q: Double) -> UInt64 { sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)] }
        return (at(0.5), at(0.99), sorted.last!)
    }

    public var json: JSONValue {
        func ms(_ micros: UInt64) -> JSONValue { .double((Double(micros) / 10).rounded() / 100) }
        func number(_ value: Double?, _ scale: Double = 1) -> JSONValue { value.map { .double(($0 * scale).rounded() / scale) } ?? .null }
        func counts<K>(_ map: [K: Int], _ key: (K) -> String) -> JSONValue {
            .object(map.sorted { key($0.key) < key($1.key) }.map { (key($0.key), .int($0.value)) })
        }
        return .object([
            ("passed", .bool(passed)), ("partial", .bool(partial)), ("problems", .array(problems.map(JSONValue.string))),
            ("connections", .int(connections)), ("connect_errors", .int(connectErrors)), ("connect_failures", counts(connectFailures) { $0 }),
            ("connect_rate_per_s", number(connectRate)), ("matched", .int(matched)), ("sent", .int(sent)),
            ("achieved_rate_per_s", number(achievedRate)), ("delivered", .int(delivered)), ("lost", .int(lost)),
            ("in_flight", .int(inFlight)), ("held_back", .int(heldBack)),
            ("settle_s", .double((settled.seconds * 10).rounded() / 10)), ("duplicated", .int(duplicated)), ("out_of_order", .int(outOfOrder)), ("foreign", .int(foreign)),
            ("resumed", .int(resumed)), ("resume_failures", .int(resumeFailures)),
            ("resume_ms", resumeMicroseconds.map { r in .object([("p50", ms(r.p50)), ("p99", ms(r.p99)), ("max", ms(r.max))]) } ?? .null),
            ("error_codes", counts(errorCodes) { $0 }), ("close_codes", counts(closeCodes) { String($0) }),
            ("server_rejections", counts(serverRejections) { $0 }), ("server_disconnections", counts(serverDisconnections) { $0 }),
            ("latency_ms", latencyMicroseconds.map { l in
                .object([("p50", ms(l.p50)), ("p95", ms(l.p95)), ("p99", ms(l.p99)), ("max", ms(l.max))])
            } ?? .null),
            ("server_bytes_per_connection", number(serverBytesPerConnection)),
            ("server_cpu_seconds_per_10k_messages", number(serverCPUPer10kMessages, 1000)),
            ("server_metrics_from", .array(serverMetricsFrom.map(JSONValue.string))),
            ("server_figures_note", serverFiguresNote.map(JSONValue.string) ?? .null),
            ("elapsed_s", .double((elapsed.seconds * 10).rounded() / 10)),
        ])
    }
}

/// The run so far, once a second, for a progress line.
public struct LoadTestProgress: Sendable {
    public var phase: String
    public var connections: Int
    public var failed: Int
    public var sent: Int
    public var delivered: Int
    public var errors: Int
}
