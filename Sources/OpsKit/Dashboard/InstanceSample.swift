/// The figures the dashboard reads from one whisper-server scrape, by the names the server
/// exports (and the operations guide queries).
struct InstanceSample: Sendable {
    var connections: Double?
    /// whisper_messages_total by `type`: sent, received, blocked, lost.
    var messages: [String: Double] = [:]
    var rejected: Double?
    var latencyBuckets: [(le: Double, count: Double)] = []
    var matchBuckets: [(le: Double, count: Double)] = []
    var matchQueue: Double?
    var activeChats: Double?
    var residentBytes: Double?
    var memoryLimitBytes: Double?
    var startTime: Double?

    init(families: [MetricFamily]) {
        for family in families {
            for sample in family.samples {
                switch sample.name {
                case "whisper_connections_total": connections = sample.value
                case "whisper_messages_total":
                    if let type = sample.label("type") { messages[type, default: 0] += sample.value }
                case "whisper_connections_rejected_total": rejected = (rejected ?? 0) + sample.value
                case "whisper_message_latency_seconds_bucket": InstanceSample.addBucket(sample, to: &latencyBuckets)
                case "whisper_match_duration_seconds_bucket": InstanceSample.addBucket(sample, to: &matchBuckets)
                case "whisper_match_queue_size": matchQueue = sample.value
                case "whisper_active_chats": activeChats = sample.value
                case "process_resident_memory_bytes": residentBytes = sample.value
                case "whisper_memory_limit_bytes": memoryLimitBytes = sample.value
                case "process_start_time_seconds": startTime = sample.value
                default: break
                }
            }
        }
    }

    private static func addBucket(_ sample: MetricSample, to buckets: inout [(le: Double, count: Double)]) {
        guard let text = sample.label("le") else { return }
        let bound: Double? = text == "+Inf" || text == "Inf" ? .infinity : Double(text)
        guard let bound else { return }
        if let index = buckets.firstIndex(where: { $0.le == bound }) {
            buckets[index].count += sample.value
        } else {
            buckets.append((bound, sample.value))
        }
    }
}

/// Histogram buckets over time, to compute quantiles of what happened in the last window only
/// (Prometheus' `rate(..._bucket[window])` fed to `histogram_quantile`).
struct BucketHistory: Sendable {
    private var entries: [(at: Double, buckets: [(le: Double, count: Double)])] = []
    let capacity: Int

    init(capacity: Int = 128) { self.capacity = capacity }

    mutating func append(at time: Double, _ buckets: [(le: Double, count: Double)]) {
        guard !buckets.isEmpty else { return }
        entries.append((time, buckets))
        if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
    }

    /// Observations between the newest entry and the one `window` seconds before it (or the
    /// oldest, while the history is shorter than the window); nil with fewer than two entries.
    func delta(window: Double) -> [(le: Double, count: Double)]? {
        guard entries.count >= 2, let latest = entries.last else { return nil }
        let start = entries.last { $0.at <= latest.at - window } ?? entries[0]
        guard start.at < latest.at else { return nil }
        return MetricMath.delta(start.buckets, latest.buckets)
    }
}

extension SeriesHistory {
    /// The points covering the last `window` seconds of the history, plus the one just before,
    /// so a rate spans the whole window.
    func points(window: Double) -> [(at: Double, value: Double)] {
        let all = points
        guard let latest = all.last else { return [] }
        let first = all.lastIndex { $0.at <= latest.at - window } ?? 0
        return Array(all[first...])
    }

    /// The per-second rate of a counter over the last `window` seconds; resets counted.
    func rate(window: Double) -> Double? { MetricMath.rate(points(window: window)) }
}
