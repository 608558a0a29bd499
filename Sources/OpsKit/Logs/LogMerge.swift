import Foundation

/// Which records `logs` shows.
public struct LogFilter: Sendable {
    public var since: Date?
    /// This severity and worse; a line whose format has no level is left out.
    public var level: LogLevel?
    /// Text the raw line contains, whatever the case.
    public var grep: String?

    public init(since: Date? = nil, level: LogLevel? = nil, grep: String? = nil) {
        self.since = since
        self.level = level
        self.grep = grep
    }

    /// - Parameter time: the record's time, or (none written) the last one before it in its log.
    public func keeps(_ record: LogRecord, time: Date?) -> Bool {
        if let since {
            guard let time, time >= since else { return false }
        }
        if let level {
            guard let found = record.level, found >= level else { return false }
        }
        if let grep, !grep.isEmpty, record.raw.range(of: grep, options: .caseInsensitive) == nil { return false }
        return true
    }
}

/// Several services' records as one stream in time order. Each log keeps its own order; a line
/// with no time of its own (HAProxy's stderr, a stack trace) goes with the line before it.
public enum LogMerge {
    public struct Entry: Sendable {
        public let record: LogRecord
        /// Its time, or the last one before it in its log.
        public let time: Date?
    }

    /// Times carried forward within one service's records.
    public static func timed(_ records: [LogRecord], after previous: Date? = nil) -> [Entry] {
        var last = previous
        return records.map { record in
            last = record.time ?? last
            return Entry(record: record, time: last)
        }
    }

    /// Merged by time without reordering any one log (a k-way merge of their heads): equal
    /// times go in the order of `logs`; a log's lines before its first time stamp come first.
    public static func merge(_ logs: [[Entry]]) -> [Entry] {
        var heads = Array(repeating: 0, count: logs.count)
        var merged: [Entry] = []
        merged.reserveCapacity(logs.reduce(0) { $0 + $1.count })
        while true {
            var best: Int?
            for (index, log) in logs.enumerated() where heads[index] < log.count {
                guard let current = best else { best = index; continue }
                let candidate = log[heads[index]].time ?? .distantPast
                if candidate < (logs[current][heads[current]].time ?? .distantPast) { best = index }
            }
            guard let chosen = best else { return merged }
            merged.append(logs[chosen][heads[chosen]])
            heads[chosen] += 1
        }
    }
}
