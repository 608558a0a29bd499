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

/// Where reports go: in memory on a single instance, PostgreSQL when DATABASE_URL is set.
protocol ReportStore: Sendable {
    /// Accepts a report; returns its number in this process.
    /// - Throws: when the report cannot even be kept for later.
    func save(_ report: AbuseReport) async throws -> Int
    /// Reports accepted so far.
    var count: Int { get }
    var check: BackendCheck { get }
}

/// Keeps the most recent reports in memory (a single instance with no DATABASE_URL).
final class InMemoryReportStore: ReportStore {
    private let reports = NIOLockedValueBox<(kept: [AbuseReport], total: Int)>(([], 0))
    private let capacity: Int

    init(capacity: Int = 10_000) { self.capacity = capacity }

    func save(_ report: AbuseReport) async throws -> Int {
        reports.withLockedValue { state in
            state.kept.append(report)
            state.total += 1
            if state.kept.count > capacity { state.kept.removeFirst(state.kept.count - capacity) }
            return state.total
        }
    }

    var count: Int { reports.withLockedValue { $0.total } }
    var check: BackendCheck { BackendCheck(name: "reports", status: .ok, detail: "in memory") }
}
