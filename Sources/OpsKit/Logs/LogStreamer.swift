import Foundation
import NIOConcurrencyHelpers

/// `whisperctl logs`: every chosen service's log as one stream, the recent lines merged in time
/// order, then (following) each new line as it is written. A source that cannot be read is a
/// failure named with its service and source; the others go on.
public struct LogStreamer: Sendable {
    public var feeds: [LogFeed]
    public var filter: LogFilter
    public var parser = LogLineParser()

    public init(feeds: [LogFeed], filter: LogFilter) {
        self.feeds = feeds
        self.filter = filter
    }

    public struct Failure: Sendable, CustomStringConvertible {
        public let service: String
        public let error: String
        public var description: String { "\(service): \(error)" }
    }

    public struct History: Sendable {
        public var entries: [LogMerge.Entry]
        /// Per feed (by index): where following starts, and the last time seen.
        public var positions: [Int: (position: LogFeed.Position, time: Date?)]
        public var failures: [Failure]
    }

    /// The last `lines` lines of each log, merged and filtered.
    public func history(_ lines: Int) async -> History {
        let results = await withTaskGroup(of: (Int, Result<(lines: [String], position: LogFeed.Position), any Error>).self) { group in
            for (index, feed) in feeds.enumerated() {
                group.addTask { (index, await Result(catching: { try await feed.history(lines) })) }
            }
            var all: [(Int, Result<(lines: [String], position: LogFeed.Position), any Error>)] = []
            for await result in group { all.append(result) }
            return all.sorted { $0.0 < $1.0 }
        }
        var logs: [[LogMerge.Entry]] = []
        var positions: [Int: (position: LogFeed.Position, time: Date?)] = [:]
        var failures: [Failure] = []
        for (index, result) in results {
            let feed = feeds[index]
            switch result {
            case .success(let read):
                let entries = LogMerge.timed(read.lines.map { parser.parse($0, service: feed.service, source: feed.source) })
                positions[index] = (read.position, entries.last?.time)
                logs.append(entries)
            case .failure(let error):
                failures.append(Failure(service: feed.service, error: SecretRegistry.shared.scrub("\(error)")))
            }
        }
        let merged = LogMerge.merge(logs).filter { filter.keeps($0.record, time: $0.time) }
        return History(entries: merged, positions: positions, failures: failures)
    }

    /// Follows every log that was read, from where its history ended, until cancelled. `emit`
    /// gets each batch of one log's new lines (filtered), `failed` a log that stopped.
    public func follow(
        from history: History, emit: @escaping @Sendable ([LogMerge.Entry]) -> Void, failed: @escaping @Sendable (Failure) -> Void
    ) async {
        await withTaskGroup(of: Void.self) { group in
            for (index, start) in history.positions {
                let feed = feeds[index]
                let parser = parser
                let filter = filter
                group.addTask {
                    let last = NIOLockedValueBox(start.time)
                    do {
                        try await feed.follow(from: start.position) { lines in
                            let records = lines.map { parser.parse($0, service: feed.service, source: feed.source) }
                            let entries = last.withLockedValue { time in
                                let timed = LogMerge.timed(records, after: time)
                                time = timed.last?.time ?? time
                                return timed
                            }
                            let kept = entries.filter { filter.keeps($0.record, time: $0.time) }
                            if !kept.isEmpty { emit(kept) }
                        }
                    } catch {
                        if !Task.isCancelled { failed(Failure(service: feed.service, error: SecretRegistry.shared.scrub("\(error)"))) }
                    }
                }
            }
        }
    }
}
