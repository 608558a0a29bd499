import Foundation
import Logging
import NIOConcurrencyHelpers
import OpsKit
import ServiceLifecycle

/// Writes reports to `abuse_reports` from a queue, so a report never waits on PostgreSQL and an
/// outage loses nothing: reports wait in memory (up to REPORT_QUEUE_LIMIT) and are written, in
/// order, when the database is back. libpq runs on NIO's thread pool, never on an event loop.
final class PostgresReportStore: ReportStore, Service {
    private struct State {
        var queue: [AbuseReport] = []
        var accepted = 0
        var connected = false
        var lastError: String?
    }

    private let url: String
    private let limit: Int
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    init(url: String, limit: Int, logger: Logger) {
        self.url = url
        self.limit = limit
        self.logger = logger
    }

    func save(_ report: AbuseReport) async throws -> Int {
        try state.withLockedValue { state in
            guard state.queue.count < limit else {
                throw OpsError(.io, "the report queue is full (\(limit)) while PostgreSQL is unavailable")
            }
            state.queue.append(report)
            state.accepted += 1
            return state.accepted
        }
    }

    var count: Int { state.withLockedValue { $0.accepted } }

    var check: BackendCheck {
        state.withLockedValue { state in
            if state.connected && state.queue.count < 100 { return BackendCheck(name: "postgres", status: .ok) }
            let detail = "\(state.queue.count) reports waiting" + (state.lastError.map { ": \($0)" } ?? "")
            return BackendCheck(name: "postgres", status: .degraded, detail: detail)
        }
    }

    func run() async throws {
        var connection: PostgresConnection?
        var delay: Duration = .milliseconds(100)
        // On shutdown, a last attempt to write what waits, then stop.
        let shuttingDown = NIOLockedValueBox(false)
        await withGracefulShutdownHandler {
            while true {
                let stopping = shuttingDown.withLockedValue { $0 }
                let next = state.withLockedValue { $0.queue.first }
                guard let report = next else {
                    if stopping { break }
                    try? await Task.sleep(for: .milliseconds(20))
                    continue
                }
                do {
                    if connection == nil {
                        connection = try await PostgresConnection.connect(url: url, timeout: .seconds(2))
                        state.withLockedValue { $0.connected = true; $0.lastError = nil }
                        logger.info("postgres.connected", metadata: ["endpoint": "\(Redactor.redactURL(url))"])
                    }
                    try await connection!.query(
                        "INSERT INTO abuse_reports (reported_session, reporter_session, reported_ip_hash, reason, chat_id, created_at) VALUES ($1, $2, $3, $4, $5, to_timestamp($6))",
                        [report.reportedSession, report.reporterSession, report.reportedIPHash, report.reason, report.chatID, report.createdAt.timeIntervalSince1970],
                        timeout: .seconds(5))
                    state.withLockedValue { $0.queue.removeFirst() }
                    delay = .milliseconds(100)
                } catch {
                    connection?.close()
                    connection = nil
                    state.withLockedValue { $0.connected = false; $0.lastError = "\(error)" }
                    logger.warning("report.write_failed", metadata: ["error": "\(error)", "waiting": "\(state.withLockedValue { $0.queue.count })"])
                    if stopping { break }
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(5))
                }
            }
        } onGracefulShutdown: {
            shuttingDown.withLockedValue { $0 = true }
        }
        connection?.close()
        let left = state.withLockedValue { $0.queue.count }
        if left > 0 { logger.error("report.unwritten", metadata: ["count": "\(left)"]) }
    }

    /// Connects once at start so /health knows at once whether PostgreSQL answers.
    func probe() async {
        do {
            let connection = try await PostgresConnection.connect(url: url, timeout: .seconds(2))
            connection.close()
            state.withLockedValue { $0.connected = true }
        } catch {
            state.withLockedValue { $0.connected = false; $0.lastError = "\(error)" }
        }
    }
}

extension PostgresReportStore: CustomStringConvertible {
    /// What the service group logs: the endpoint without its password.
    var description: String { "PostgresReportStore(\(Redactor.redactURL(url)))" }
}
