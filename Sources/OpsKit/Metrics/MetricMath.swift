/// What Prometheus computes from raw samples, for the dashboard and `top`: counter rates that
/// survive resets and `histogram_quantile` with Prometheus' interpolation.
public enum MetricMath {
    /// A counter's per-second rate over `points` (time in seconds, oldest first). A value below
    /// the one before it is a reset (the process restarted and counted from 0), so the new value
    /// itself is the increase, as Prometheus' `rate` takes it.
    public static func rate(_ points: [(at: Double, value: Double)]) -> Double? {
        guard points.count >= 2, let first = points.first, let last = points.last, last.at > first.at else { return nil }
        var increase = 0.0
        for (previous, current) in zip(points, points.dropFirst()) {
            increase += current.value >= previous.value ? current.value - previous.value : current.value
        }
        return increase / (last.at - first.at)
    }

    /// `histogram_quantile(q, buckets)`: buckets are (upper bound `le`, cumulative count); they
    /// may come in any order. Follows Prometheus (promql/quantile.go): NaN without a +Inf bucket,
    /// with fewer than 2 buckets or no observations; the highest finite bound when the rank falls
    /// in the +Inf bucket; linear interpolation inside a bucket, from 0 for the first one (or its
    /// bound when that is not positive). Counts that decrease across buckets are evened out.
    public static func histogramQuantile(_ q: Double, buckets: [(le: Double, count: Double)]) -> Double {
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        var sorted = buckets.sorted { $0.le < $1.le }
        guard let last = sorted.last, last.le == .infinity, sorted.count >= 2 else { return .nan }
        for index in sorted.indices.dropFirst() where sorted[index].count < sorted[index - 1].count {
            sorted[index].count = sorted[index - 1].count
        }
        let observations = last.count
        guard observations > 0 else { return .nan }
        var rank = q * observations
        let bucket = sorted.firstIndex { $0.count >= rank } ?? sorted.count - 1
        if bucket == sorted.count - 1 { return sorted[sorted.count - 2].le }
        if bucket == 0 && sorted[0].le <= 0 { return sorted[0].le }
        var start = 0.0
        let end = sorted[bucket].le
        var count = sorted[bucket].count
        if bucket > 0 {
            start = sorted[bucket - 1].le
            count -= sorted[bucket - 1].count
            rank -= sorted[bucket - 1].count
        }
        guard count > 0 else { return end }
        return start + (end - start) * (rank / count)
    }

    /// The buckets of a histogram's samples (`NAME_bucket{le=...}`) matching `labels`, added up
    /// over everything else (several instances or label values).
    public static func buckets(of family: MetricFamily, where matches: (MetricSample) -> Bool = { _ in true }) -> [(le: Double, count: Double)] {
        var byBound: [Double: Double] = [:]
        for sample in family.samples where sample.name == family.name + "_bucket" && matches(sample) {
            guard let text = sample.label("le"), let bound = bound(text) else { continue }
            byBound[bound, default: 0] += sample.value
        }
        return byBound.map { ($0.key, $0.value) }
    }

    /// Bucket counts that happened between two scrapes: what `rate(..._bucket[interval])` sees.
    public static func delta(_ earlier: [(le: Double, count: Double)], _ later: [(le: Double, count: Double)]) -> [(le: Double, count: Double)] {
        let before = Dictionary(earlier.map { ($0.le, $0.count) }, uniquingKeysWith: +)
        return later.map { bucket in
            let previous = before[bucket.le] ?? 0
            // A reset: the whole later count is new.
            return (bucket.le, bucket.count >= previous ? bucket.count - previous : bucket.count)
        }
    }

    private static func bound(_ text: String) -> Double? {
        switch text {
        case "+Inf", "Inf", "inf": return .infinity
        default: return Double(text)
        }
    }
}

/// The last values of one series, oldest first, in a ring: the dashboard's sparklines and rates.
public struct SeriesHistory: Sendable {
    public let capacity: Int
    private var storage: [(at: Double, value: Double)] = []
    private var start = 0

    public init(capacity: Int = 120) { self.capacity = max(2, capacity) }

    public mutating func append(at time: Double, _ value: Double) {
        if storage.count < capacity {
            storage.append((time, value))
        } else {
            storage[start] = (time, value)
            start = (start + 1) % capacity
        }
    }

    public var points: [(at: Double, value: Double)] { Array(storage[start...] + storage[..<start]) }
    public var values: [Double] { points.map(\.value) }
    public var latest: Double? { storage.isEmpty ? nil : storage[(start + storage.count - 1) % storage.count].value }
    public var count: Int { storage.count }
}
