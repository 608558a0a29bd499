import Foundation
import NIOConcurrencyHelpers

/// An abuse report as the store keeps it; IPs only ever as salted hashes.
struct AbuseReport: Sendable, Equatable {
    var reportedSession: String
    var reporterSession: String
    var reportedIPHash: String
    var reason: String
    var chatID: String?
    var createdAt: Date
}

/// Where reports go: in memory on a single instance, PostgreSQL across instances.
protocol ReportStore: Sendable {
    func save(_ report: AbuseReport) async throws -> Int
    var count: Int { get }
}

/// Keeps the most recent reports in memory (a single instance with no DATABASE_URL).
final class InMemoryReportStore: ReportStore {
    private let reports = NIOLockedValueBox<[AbuseReport]>([])
    private let capacity: Int

    init(capacity: Int = 10_000) { self.capacity = capacity }

    func save(_ report: AbuseReport) async throws -> Int {
        reports.withLockedValue { reports in
            reports.append(report)
            if reports.count > capacity { reports.removeFirst(reports.count - capacity) }
            return reports.count
        }
    }

    var count: Int { reports.withLockedValue { $0.count } }
}
