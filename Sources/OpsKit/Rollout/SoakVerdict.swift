import Foundation

/// The soak gate: what a freshly updated server did between two scrapes of its /metrics.
/// Rejections and messages given up on count as errors; delivery p99 comes from the latency
/// histogram's buckets in the window. Nothing delivered in the window leaves p99 unmeasured,
/// which is said, not passed off as fast.
public struct SoakVerdict: Sendable {
    public var seconds: Double
    public var accepted: Int
    public var rejected: Int
    public var received: Int
    public var lost: Int
    var deliveryP99: Double?
    public var problems: [String]

    public var passed: Bool { problems.isEmpty }
    /// Anything reached it in the window: a connection (accepted or refused) or a message.
    public var sawTraffic: Bool { accepted + rejected + received + lost > 0 }

    var rejectionRate: Double? { accepted + rejected > 0 ? Double(rejected) / Double(accepted + rejected) : nil }
    var lossRate: Double? { received > 0 ? Double(lost) / Double(received) : (lost > 0 ? 1 : nil) }

    public init(before: [MetricFamily], after: [MetricFamily], seconds: Double, maxP99: Duration, maxErrorRate: Double) {
        func family(_ set: [MetricFamily], _ name: String) -> MetricFamily? { set.first { $0.name == name } }
        func total(_ set: [MetricFamily], _ name: String, where matches: (MetricSample) -> Bool = { _ in true }) -> Double {
            family(set, name)?.samples.filter { $0.name == name && matches($0) }.reduce(0) { $0 + $1.value } ?? 0
        }
        func delta(_ name: String, where matches: @escaping (MetricSample) -> Bool = { _ in true }) -> Int {
            let change = total(after, name, where: matches) - total(before, name, where: matches)
            // A counter that went down: the server restarted in the window; count what it has now.
            return Int(change >= 0 ? change : total(after, name, where: matches))
        }
        self.seconds = seconds
        rejected = delta("whisper_connections_rejected_total") { $0.label("reason") != "draining" }
        let closed = delta("whisper_disconnections_total")
        let opened = Int(total(after, "whisper_connections_total") - total(before, "whisper_connections_total")) + closed
        accepted = max(0, opened)
        received = delta("whisper_messages_total") { $0.label("type") == "received" }
        lost = delta("whisper_messages_total") { $0.label("type") == "lost" }
        if let earlier = family(before, "whisper_message_latency_seconds"), let later = family(after, "whisper_message_latency_seconds") {
            let window = MetricMath.delta(MetricMath.buckets(of: earlier), MetricMath.buckets(of: later))
            let count = window.map(\.count).max() ?? 0
            deliveryP99 = count > 0 ? MetricMath.histogramQuantile(0.99, buckets: window) : nil
        } else {
            deliveryP99 = nil
        }
        self.problems = []
        var problems: [String] = []
        if let rate = rejectionRate, rate > maxErrorRate {
            problems.append(String(format: "%d of %d connections rejected (%.1f%%, over %.1f%%)", rejected, accepted + rejected, rate * 100, maxErrorRate * 100))
        }
        if let rate = lossRate, rate > maxErrorRate || (maxErrorRate == 0 && lost > 0) {
            problems.append(String(format: "%d of %d messages given up on (%.2f%%)", lost, received, rate * 100))
        }
        if let p99 = deliveryP99, p99 > maxP99.seconds {
            problems.append(String(format: "delivery p99 %.1f ms over %.1f ms", p99 * 1000, maxP99.seconds * 1000))
        }
        self.problems = problems
    }

    public var summary: String {
        // Nothing reached it: the verdict rests on its serving state alone, and says so.
        if !sawTraffic {
            return "no traffic reached it in \(String(format: "%.0f", seconds)) s: only its serving state was checked"
        }
        var parts = ["\(accepted) connections, \(rejected) rejected", "\(received) messages, \(lost) lost"]
        parts.append(deliveryP99.map { String(format: "delivery p99 %.1f ms", $0 * 1000) } ?? "delivery p99 - (nothing delivered)")
        return parts.joined(separator: ", ")
    }

    public var json: JSONValue {
        .object([
            ("seconds", .double(seconds)), ("accepted", .int(accepted)), ("rejected", .int(rejected)), ("received", .int(received)),
            ("lost", .int(lost)), ("delivery_p99_ms", deliveryP99.map { .double($0 * 1000) } ?? .null), ("saw_traffic", .bool(sawTraffic)),
            ("problems", .array(problems.map(JSONValue.string))),
        ])
    }
}
