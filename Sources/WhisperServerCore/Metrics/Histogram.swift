import NIOConcurrencyHelpers

/// A Prometheus histogram: cumulative buckets, sum and count.
final class Histogram: Sendable {
    let name: String
    let help: String
    let bounds: [Double]
    private let state: NIOLockedValueBox<(counts: [Int], sum: Double, count: Int)>

    init(name: String, help: String, bounds: [Double]) {
        self.name = name
        self.help = help
        self.bounds = bounds
        state = NIOLockedValueBox((Array(repeating: 0, count: bounds.count), 0, 0))
    }

    func observe(_ value: Double) {
        let bucket = bounds.firstIndex { value <= $0 }
        state.withLockedValue { state in
            if let bucket { state.counts[bucket] += 1 }
            state.sum += value
            state.count += 1
        }
    }

    func observe(_ duration: Duration) { observe(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18) }

    func render(into out: inout String) {
        let (counts, sum, count) = state.withLockedValue { ($0.counts, $0.sum, $0.count) }
        out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        var cumulative = 0
        for (bound, bucketCount) in zip(bounds, counts) {
            cumulative += bucketCount
            out += "\(name)_bucket{le=\"\(formatMetric(bound))\"} \(cumulative)\n"
        }
        out += "\(name)_bucket{le=\"+Inf\"} \(count)\n\(name)_sum \(formatMetric(sum))\n\(name)_count \(count)\n"
    }
}

/// Prometheus' number format: integers without a fraction, others in shortest form.
func formatMetric(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
}
