import Foundation
import NIOConcurrencyHelpers
import Synchronization

/// The server's Prometheus metrics, named as the operations guide's queries and alerts expect.
final class ServerMetrics: Sendable {
    let connections = Atomic<Int>(0)
    let messagesSent = Atomic<Int>(0)
    let messagesReceived = Atomic<Int>(0)
    let messagesBlocked = Atomic<Int>(0)
    /// Messages given up on: a gap in a chat that never reached the resume buffer.
    let messagesLost = Atomic<Int>(0)
    /// Messages acked without a copy in the partner's resume buffer: Redis refused the write for
    /// a whole RESUME_WINDOW.
    let messagesUnbuffered = Atomic<Int>(0)
    let resumed = Atomic<Int>(0)
    let bans = Atomic<Int>(0)
    let messageLatency = Histogram(
        name: "whisper_message_latency_seconds", help: "Time from a frame received to its relay written to the partner.",
        bounds: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1])
    let matchDuration = Histogram(
        name: "whisper_match_duration_seconds", help: "Time from queued to matched.",
        bounds: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 20, 30])
    private let rejected = NIOLockedValueBox<[String: Int]>([:])
    private let disconnections = NIOLockedValueBox<[String: Int]>([:])
    let startTime = Date()

    func rejectConnection(reason: String) { rejected.withLockedValue { $0[reason, default: 0] += 1 } }
    func disconnected(reason: String) { disconnections.withLockedValue { $0[reason, default: 0] += 1 } }

    /// The text exposition format, version 0.0.4.
    func render(queueSize: Int, activeChats: Int) -> String {
        var out = ""
        func gauge(_ name: String, _ help: String, _ value: Double) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(formatMetric(value))\n"
        }
        gauge("whisper_connections_total", "Current WebSocket connections.", Double(connections.load(ordering: .relaxed)))
        out += "# HELP whisper_messages_total Chat messages by type.\n# TYPE whisper_messages_total counter\n"
        out += "whisper_messages_total{type=\"sent\"} \(messagesSent.load(ordering: .relaxed))\n"
        out += "whisper_messages_total{type=\"received\"} \(messagesReceived.load(ordering: .relaxed))\n"
        out += "whisper_messages_total{type=\"blocked\"} \(messagesBlocked.load(ordering: .relaxed))\n"
        out += "whisper_messages_total{type=\"lost\"} \(messagesLost.load(ordering: .relaxed))\n"
        out += "whisper_messages_total{type=\"unbuffered\"} \(messagesUnbuffered.load(ordering: .relaxed))\n"
        messageLatency.render(into: &out)
        matchDuration.render(into: &out)
        gauge("whisper_match_queue_size", "Users waiting for a partner.", Double(queueSize))
        gauge("whisper_active_chats", "Chats in progress with a side on this instance.", Double(activeChats))
        func counter(_ name: String, _ help: String, _ value: Int) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
        }
        counter("whisper_sessions_resumed_total", "Sessions taken back with a resume token.", resumed.load(ordering: .relaxed))
        counter("whisper_bans_total", "IP hashes banned after repeated reports.", bans.load(ordering: .relaxed))
        func labelled(_ name: String, _ help: String, _ values: [String: Int]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n"
            for (reason, count) in values.sorted(by: { $0.key < $1.key }) { out += "\(name){reason=\"\(reason)\"} \(count)\n" }
        }
        labelled("whisper_connections_rejected_total", "Upgrades refused, by reason.", rejected.withLockedValue { $0 })
        labelled("whisper_disconnections_total", "Connections closed, by reason.", disconnections.withLockedValue { $0 })
        ProcessMetrics.read(startTime: startTime).render(into: &out)
        return out
    }
}

/// The standard process_* metrics, read from /proc.
struct ProcessMetrics {
    var residentBytes: Int
    var openFDs: Int
    /// The open-files limit (soft), as process_max_fds.
    var maxFDs: Int
    var cpuSeconds: Double
    var startTime: Date
    /// The cgroup's memory limit (a container's limit), nil when unlimited.
    var memoryLimitBytes: Int?

    static func read(startTime: Date) -> ProcessMetrics {
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
        let resident = statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        return ProcessMetrics(
            residentBytes: resident * pageSize, openFDs: fds, maxFDs: Int(clamping: limit.rlim_cur), cpuSeconds: cpu, startTime: startTime, memoryLimitBytes: cgroupMemoryLimit())
    }

    /// cgroup v2 `memory.max` ("max" when unlimited), else v1 `memory.limit_in_bytes` (a huge
    /// number when unlimited).
    static func cgroupMemoryLimit() -> Int? {
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            guard let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0, limit < 1 << 60 else { return nil }
            return limit
        }
        return nil
    }

    func render(into out: inout String) {
        out += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\n"
        out += "process_resident_memory_bytes \(residentBytes)\n"
        out += "# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds \(openFDs)\n"
        out += "# HELP process_max_fds Maximum number of open file descriptors.\n# TYPE process_max_fds gauge\nprocess_max_fds \(maxFDs)\n"
        out += "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds_total counter\n"
        out += "process_cpu_seconds_total \(cpuSeconds)\n"
        out += "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n# TYPE process_start_time_seconds gauge\n"
        out += "process_start_time_seconds \(formatMetric(startTime.timeIntervalSince1970.rounded()))\n"
        if let memoryLimitBytes {
            out += "# HELP whisper_memory_limit_bytes The container's memory limit (cgroup), absent when unlimited.\n"
            out += "# TYPE whisper_memory_limit_bytes gauge\nwhisper_memory_limit_bytes \(memoryLimitBytes)\n"
        }
    }
}
