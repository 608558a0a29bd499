import CLibPQ
import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// One connection to PostgreSQL over libpq.
///
/// libpq's non-blocking API drives the connection from `NIOThreadPool` threads, with `poll(2)`
/// enforcing every deadline, so neither a dead server nor a slow query can hold a caller past its
/// timeout. `PGconn` is not thread-safe: `lock` serialises its use, hence `@unchecked Sendable`.
public final class PostgresConnection: @unchecked Sendable {
    public let info: PostgresConnectionInfo
    private let connection: OpaquePointer
    private let lock = NIOLock()
    private let pool: NIOThreadPool
    private let defaultTimeout: Duration
    private let onCancel: BlockingCallCancellation
    private var closed = false

    private init(
        info: PostgresConnectionInfo, connection: OpaquePointer, pool: NIOThreadPool, timeout: Duration,
        onCancel: BlockingCallCancellation
    ) {
        self.info = info
        self.connection = connection
        self.pool = pool
        self.defaultTimeout = timeout
        self.onCancel = onCancel
    }

    deinit {
        if !closed { PQfinish(connection) }
    }

    /// Connects to the server a URL (`postgres://user:pw@host:5432/db?sslmode=disable`) names.
    /// - Parameters:
    ///   - url: a libpq connection URL or key=value string.
    ///   - timeout: bounds the connection and is the default for each query.
    ///   - pool: where the libpq calls run.
    ///   - onCancel: whether a cancelled caller waits for a call in progress (`.abandon` for probes).
    public static func connect(
        url: String, timeout: Duration = .seconds(5), pool: NIOThreadPool = .singleton,
        onCancel: BlockingCallCancellation = .finish
    ) async throws -> PostgresConnection {
        let info = try PostgresConnectionInfo(parsing: url)
        return try await pool.run(onCancel) { try openBlocking(info, timeout: timeout, pool: pool, onCancel: onCancel) }
    }

    private static func openBlocking(
        _ info: PostgresConnectionInfo, timeout: Duration, pool: NIOThreadPool, onCancel: BlockingCallCancellation
    ) throws -> PostgresConnection {
        let deadline = ContinuousClock.now + timeout
        let keywords = ["dbname", "fallback_application_name"]
        let values = [info.connectionString, "whisper"]
        let started: OpaquePointer? = withCStrings(keywords) { k in
            withCStrings(values) { v in PQconnectStartParams(k, v, 1) }
        }
        guard let conn = started else {
            throw OpsError(.io, "libpq could not allocate a connection", endpoint: info.endpoint)
        }
        var state = PGRES_POLLING_WRITING
        while true {
            if PQstatus(conn) == CONNECTION_BAD || state == PGRES_POLLING_FAILED {
                let error = connectionError(conn, info: info)
                PQfinish(conn)
                throw error
            }
            if state == PGRES_POLLING_OK { break }
            let ready = try SocketWait.wait(
                fd: PQsocket(conn), for: state == PGRES_POLLING_READING ? .read : .write, until: deadline)
            guard ready else {
                PQfinish(conn)
                throw OpsError.timedOut(after: timeout, endpoint: info.endpoint)
            }
            state = PQconnectPoll(conn)
        }
        PQsetnonblocking(conn, 1)
        return PostgresConnection(info: info, connection: conn, pool: pool, timeout: timeout, onCancel: onCancel)
    }

    /// The server's version number, e.g. 150018 for 15.18.
    public var serverVersionNumber: Int {
        lock.withLock { Int(PQserverVersion(connection)) }
    }

    /// Runs one statement with `$1`, `$2`... placeholders bound to `parameters` (nil is NULL).
    /// - Parameter timeout: on expiry the statement is cancelled on the server and `timedOut` thrown.
    @discardableResult
    public func query(
        _ sql: String, _ parameters: [(any PostgresBindable)?] = [], timeout: Duration? = nil
    ) async throws -> PostgresResult {
        let texts = parameters.map { $0?.postgresText }
        let limit = timeout ?? defaultTimeout
        let results = try await pool.run(onCancel) {
            try self.runBlocking(timeout: limit) { conn in
                withOptionalCStrings(texts) { values in
                    PQsendQueryParams(conn, sql, Int32(texts.count), nil, values, nil, nil, 0)
                }
            }
        }
        return results.last ?? PostgresResult(columns: [], rows: [], commandTag: "", affectedRows: nil)
    }

    /// Runs a script of one or more statements (the simple query protocol), as migrations need.
    /// - Returns: one result per statement.
    @discardableResult
    public func execute(script sql: String, timeout: Duration? = nil) async throws -> [PostgresResult] {
        let limit = timeout ?? defaultTimeout
        return try await pool.run(onCancel) {
            try self.runBlocking(timeout: limit) { conn in PQsendQuery(conn, sql) }
        }
    }

    private func runBlocking(timeout: Duration, send: (OpaquePointer) -> Int32) throws -> [PostgresResult] {
        try lock.withLock {
            guard !closed else { throw OpsError(.io, "connection is closed", endpoint: info.endpoint) }
            let deadline = ContinuousClock.now + timeout
            guard send(connection) == 1 else { throw connectionFailure() }
            try flush(until: deadline, timeout: timeout)
            var results: [PostgresResult] = []
            var firstError: PostgresError?
            while true {
                while PQisBusy(connection) == 1 {
                    guard try SocketWait.wait(fd: PQsocket(connection), for: .read, until: deadline) else {
                        cancelRunningQuery()
                        throw OpsError.timedOut(after: timeout, endpoint: info.endpoint)
                    }
                    guard PQconsumeInput(connection) == 1 else { throw connectionFailure() }
                }
                guard let result = PQgetResult(connection) else { break }
                defer { PQclear(result) }
                switch PQresultStatus(result) {
                case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
                    if firstError == nil { firstError = resultError(result) }
                default:
                    results.append(PostgresConnection.decode(result))
                }
            }
            if let firstError { throw firstError }
            return results
        }
    }

    private func flush(until deadline: ContinuousClock.Instant, timeout: Duration) throws {
        while true {
            let status = PQflush(connection)
            if status == 0 { return }
            if status < 0 { throw connectionFailure() }
            guard try SocketWait.wait(fd: PQsocket(connection), for: .readOrWrite, until: deadline) else {
                throw OpsError.timedOut(after: timeout, endpoint: info.endpoint)
            }
            guard PQconsumeInput(connection) == 1 else { throw connectionFailure() }
        }
    }

    /// Asks the server to cancel the running statement, then drains what it sends back,
    /// leaving the connection usable.
    private func cancelRunningQuery() {
        if let cancel = PQgetCancel(connection) {
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(cancel, &buffer, Int32(buffer.count))
            PQfreeCancel(cancel)
        }
        let drainDeadline = ContinuousClock.now + .seconds(2)
        while true {
            while PQisBusy(connection) == 1 {
                guard (try? SocketWait.wait(fd: PQsocket(connection), for: .read, until: drainDeadline)) == true,
                    PQconsumeInput(connection) == 1
                else { return }
            }
            guard let result = PQgetResult(connection) else { return }
            PQclear(result)
        }
    }

    /// Closes the connection; later calls fail with "connection is closed".
    public func close() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            PQfinish(connection)
        }
    }

    private func connectionFailure() -> OpsError {
        PostgresConnection.connectionError(connection, info: info)
    }

    private static func connectionError(_ conn: OpaquePointer, info: PostgresConnectionInfo) -> OpsError {
        let raw = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
        // libpq prefixes 'connection to server at "h" (addr), port p failed: '; the endpoint says that.
        var reason = raw.components(separatedBy: "\n").first ?? raw
        if let failed = reason.range(of: "failed: ") { reason = String(reason[failed.upperBound...]) }
        let lower = reason.lowercased()
        if lower.contains("connection refused") {
            return OpsError(.connectionRefused, "connection refused", endpoint: info.endpoint)
        }
        if lower.contains("password authentication failed") || lower.contains("no password supplied")
            || lower.contains("authentication failed")
        {
            return OpsError(.authentication, reason, endpoint: info.endpoint)
        }
        if lower.contains("timeout") || lower.contains("timed out") {
            return OpsError(.timedOut, reason, endpoint: info.endpoint)
        }
        if lower.contains("could not translate host name") {
            return OpsError(.unreachable, "cannot resolve host", endpoint: info.endpoint)
        }
        if lower.contains("server closed the connection") || lower.contains("no connection to the server") {
            return OpsError(.io, "server closed the connection", endpoint: info.endpoint)
        }
        return OpsError(.io, reason.isEmpty ? "connection failed" : reason, endpoint: info.endpoint)
    }

    private func resultError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? {
            PQresultErrorField(result, code).map { String(cString: $0) }
        }
        let message = field(WC_PG_DIAG_MESSAGE_PRIMARY)
            ?? String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
        return PostgresError(
            sqlState: field(WC_PG_DIAG_SQLSTATE), severity: field(WC_PG_DIAG_SEVERITY), message: message,
            detail: field(WC_PG_DIAG_MESSAGE_DETAIL), hint: field(WC_PG_DIAG_MESSAGE_HINT),
            position: field(WC_PG_DIAG_STATEMENT_POSITION).flatMap { Int($0) }, endpoint: info.endpoint)
    }

    private static func decode(_ result: OpaquePointer) -> PostgresResult {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let columns = (0..<columnCount).map { index in
            PostgresResult.Column(
                name: String(cString: PQfname(result, Int32(index))), typeOID: UInt32(PQftype(result, Int32(index))))
        }
        let rows = (0..<rowCount).map { row in
            PostgresRow(
                columns: columns,
                values: (0..<columnCount).map { column in
                    PQgetisnull(result, Int32(row), Int32(column)) == 1
                        ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
                })
        }
        let tag = String(cString: PQcmdStatus(result))
        let affected = Int(String(cString: PQcmdTuples(result)))
        return PostgresResult(columns: columns, rows: rows, commandTag: tag, affectedRows: affected)
    }
}

/// Calls `body` with a NULL-terminated C array of `strings`.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStrings(strings.map { Optional($0) }) { body($0) }
}

func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0)! } }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
