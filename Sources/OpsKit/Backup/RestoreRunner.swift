import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// Restores a backup: checksums first (a damaged backup is refused), then
/// `pg_restore --clean --if-exists --exit-on-error --single-transaction` (all or nothing: an
/// interrupted or failed restore leaves the database as it was), then row counts per table
/// against the manifest, so a restore that "succeeds" while restoring nothing is caught.
public struct RestoreRunner: Sendable {
    public struct Report: Sendable {
        public var database: String
        public var tables: [(table: String, expected: Int, restored: Int?)]
        public var matches: Bool { tables.allSatisfy { $0.expected == $0.restored } }
    }

    public let databaseURL: String
    public var pool: NIOThreadPool

    public init(databaseURL: String, pool: NIOThreadPool = .singleton) {
        self.databaseURL = databaseURL
        self.pool = pool
    }

    /// The database a restore writes into: `target`, or the inventory's.
    public func targetDatabase(_ target: String?) throws -> String {
        let info = try PostgresConnectionInfo(parsing: databaseURL)
        return target ?? info.database ?? info.user ?? "postgres"
    }

    /// - Parameter createTarget: create `target` first when it does not exist.
    /// Where the running pg_restore is, so a signal can reach it; and whether one came before it started.
    public final class Interruption: Sendable {
        private let state = NIOLockedValueBox<(child: Subprocess?, signal: Int32?)>((nil, nil))
        public init() {}

        /// Passes `signal` to pg_restore, or stops it from starting.
        public func interrupt(_ signal: Int32) {
            state.withLockedValue { state in
                state.signal = state.signal ?? signal
                return state.child
            }?.signal(signal)
        }

        /// Records the child; false when an interruption already came (the child is then stopped).
        func started(_ child: Subprocess) -> Bool {
            let signal: Int32? = state.withLockedValue { state in
                state.child = child
                return state.signal
            }
            if let signal { child.signal(signal) }
            return signal == nil
        }

        func ended() { state.withLockedValue { $0.child = nil } }

        public var signal: Int32? { state.withLockedValue { $0.signal } }
    }

    public func restore(_ entry: BackupStore.Entry, target: String?, interruption: Interruption = Interruption()) async throws -> Report {
        try BackupVerifier.checkFiles(entry)
        guard let dump = entry.manifest.dumpFile else { throw OpsError(.invalidInput, "the manifest lists no database dump", endpoint: entry.path) }
        let info = try PostgresConnectionInfo(parsing: databaseURL)
        let database = try targetDatabase(target)
        let connection = try await PostgresConnection.connect(url: databaseURL, timeout: .seconds(10), pool: pool)
        let tool: PostgresClientTool
        do {
            tool = try await PostgresClientTools.find("pg_restore", serverMajor: connection.serverVersionNumber / 10_000)
            if target != nil {
                let exists = try await connection.query("SELECT 1 FROM pg_database WHERE datname = $1", [database])
                if exists.rows.isEmpty { try await connection.query("CREATE DATABASE \(BackupWriter.quoteIdentifier(database))") }
            }
            connection.close()
        } catch {
            connection.close()
            throw error
        }
        try await Self.pgRestore(
            tool: tool, dumpPath: (entry.path as NSString).appendingPathComponent(dump.name), info: info, database: database, clean: true,
            pool: pool, interruption: interruption)
        let restored = try await Self.rowCounts(url: databaseURL, database: database, pool: pool)
        return Report(database: database, tables: Self.compare(entry.manifest.tables, restored))
    }

    static func pgRestore(
        tool: PostgresClientTool, dumpPath: String, info: PostgresConnectionInfo, database: String, clean: Bool, pool: NIOThreadPool,
        interruption: Interruption = Interruption()
    ) async throws {
        if interruption.signal != nil { throw OpsError(.io, "interrupted before pg_restore started: nothing was restored") }
        let (connectionString, password) = info.forChildProcess(database: database)
        var environment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C"]
        environment.merge(password) { _, new in new }
        var arguments = ["--exit-on-error", "--single-transaction", "--no-owner", "--no-password", "--dbname=\(connectionString)"]
        if clean { arguments += ["--clean", "--if-exists"] }
        let child = try Subprocess.spawn(tool.path, arguments + [dumpPath], environment: environment, captureOutput: false)
        _ = interruption.started(child)
        let termination = try await child.wait(on: pool)
        interruption.ended()
        guard termination.succeeded else {
            if case .signalled = termination {
                throw OpsError(.io, "pg_restore \(termination): nothing was restored (one transaction, rolled back)", endpoint: info.endpoint)
            }
            throw OpsError(.serverError, "pg_restore \(termination): \(child.errorOutput); nothing was restored (one transaction, rolled back)", endpoint: info.endpoint)
        }
    }

    static func rowCounts(url: String, database: String, pool: NIOThreadPool) async throws -> [String: Int] {
        let info = try PostgresConnectionInfo(parsing: url)
        let (connectionString, password) = info.forChildProcess(database: database)
        // libpq reads the password from the connection string; PGPASSWORD is for children only.
        let full = connectionString + (password["PGPASSWORD"].map { " password='\($0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'"))'" } ?? "")
        let connection = try await PostgresConnection.connect(url: full, timeout: .seconds(10), pool: pool)
        defer { connection.close() }
        return try await BackupWriter.rowCounts(connection)
    }

    static func compare(_ expected: [String: Int], _ restored: [String: Int]) -> [(String, Int, Int?)] {
        expected.keys.sorted().map { ($0, expected[$0]!, restored[$0]) }
    }
}
