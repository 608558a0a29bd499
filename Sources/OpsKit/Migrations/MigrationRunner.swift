import Foundation

/// Applies and reverts migrations, recording them in `schema_migrations`. Each migration runs in
/// its own transaction together with its bookkeeping row, so a failed one leaves nothing behind;
/// an advisory lock keeps two runners (two instances starting at once) from interleaving.
public struct MigrationRunner: Sendable {
    /// What the database says about one migration.
    public struct Status: Sendable, Equatable {
        public var version: Int
        public var name: String
        public var appliedAt: Date?
        /// The up script changed after it was applied.
        public var modified: Bool
        /// Applied in the database but no longer among the files.
        public var missingFile: Bool
    }

    public let connection: PostgresConnection
    public let migrations: [Migration]
    /// An arbitrary key for `pg_advisory_lock`, the same for every runner of this schema.
    static let lockKey = 7_316_952_001

    public init(connection: PostgresConnection, migrations: [Migration]) {
        self.connection = connection
        self.migrations = migrations
    }

    public func status() async throws -> [Status] {
        try await ensureTable()
        let applied = try await appliedRows()
        var statuses = migrations.map { migration in
            let row = applied[migration.version]
            return Status(
                version: migration.version, name: migration.name, appliedAt: row?.appliedAt,
                modified: row.map { $0.checksum != migration.checksum } ?? false, missingFile: false)
        }
        for (version, row) in applied where !migrations.contains(where: { $0.version == version }) {
            statuses.append(Status(version: version, name: row.name, appliedAt: row.appliedAt, modified: false, missingFile: true))
        }
        return statuses.sorted { $0.version < $1.version }
    }

    /// Applies pending migrations in order, up to and including `target` when given.
    /// - Returns: the migrations applied (or, with `dryRun`, those that would be).
    @discardableResult
    public func up(to target: Int? = nil, dryRun: Bool = false) async throws -> [Migration] {
        try await withLock {
            let applied = try await appliedRows()
            for migration in migrations {
                if let row = applied[migration.version], row.checksum != migration.checksum {
                    throw OpsError(.invalidInput, "migration \(migration.version) changed after it was applied (checksum differs); write a new migration instead", endpoint: migration.upPath)
                }
            }
            let pending = migrations.filter { migration in
                applied[migration.version] == nil && migration.version <= (target ?? .max)
            }
            if dryRun { return pending }
            for migration in pending {
                try await transaction(migration.up, path: migration.upPath) {
                    try await connection.query(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        [migration.version, migration.name, migration.checksum])
                }
            }
            return pending
        }
    }

    /// Reverts the `steps` most recently applied migrations, newest first.
    @discardableResult
    public func down(steps: Int = 1, dryRun: Bool = false) async throws -> [Migration] {
        try await withLock {
            let applied = try await appliedRows()
            let versions = applied.keys.sorted(by: >).prefix(max(0, steps))
            let reverting = try versions.map { version in
                guard let migration = migrations.first(where: { $0.version == version }) else {
                    throw OpsError(.invalidInput, "migration \(version) is applied but its files are gone")
                }
                guard migration.down != nil else {
                    throw OpsError(.invalidInput, "migration \(version) has no down script", endpoint: migration.upPath)
                }
                return migration
            }
            if dryRun { return reverting }
            for migration in reverting {
                try await transaction(migration.down!, path: migration.downPath!) {
                    try await connection.query("DELETE FROM schema_migrations WHERE version = $1", [migration.version])
                }
            }
            return reverting
        }
    }

    // MARK: Internals

    private struct AppliedRow {
        var name: String
        var checksum: String
        var appliedAt: Date?
    }

    private func ensureTable() async throws {
        try await connection.execute(script: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    BIGINT      PRIMARY KEY,
                name       TEXT        NOT NULL,
                checksum   TEXT        NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """)
    }

    private func appliedRows() async throws -> [Int: AppliedRow] {
        let result = try await connection.query("SELECT version, name, checksum, applied_at FROM schema_migrations")
        var rows: [Int: AppliedRow] = [:]
        for row in result.rows {
            guard let version = row[0].int else { continue }
            rows[version] = AppliedRow(name: row[1].string ?? "", checksum: row[2].string ?? "", appliedAt: row[3].date)
        }
        return rows
    }

    private func withLock<T>(_ body: () async throws -> T) async throws -> T {
        try await ensureTable()
        let locked = try await connection.query("SELECT pg_try_advisory_lock($1)", [Self.lockKey])
        guard locked.rows.first?[0].bool == true else {
            throw OpsError(.serverError, "another migration run holds the lock; try again when it is done")
        }
        do {
            let result = try await body()
            try await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
            return result
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
            throw error
        }
    }

    /// Runs `sql` and `bookkeeping` in one transaction; a SQL error names the file and line.
    private func transaction(_ sql: String, path: String, bookkeeping: () async throws -> Void) async throws {
        try await connection.execute(script: "BEGIN")
        do {
            do {
                try await connection.execute(script: sql)
            } catch let error as PostgresError {
                throw MigrationError(path: path, line: error.position.map { Self.line(of: $0, in: sql) }, underlying: error)
            }
            try await bookkeeping()
            try await connection.execute(script: "COMMIT")
        } catch {
            _ = try? await connection.execute(script: "ROLLBACK")
            throw error
        }
    }

    /// The 1-based line of a 1-based character position, as PostgreSQL reports positions.
    static func line(of position: Int, in text: String) -> Int {
        1 + text.prefix(max(0, position - 1)).filter { $0 == "\n" }.count
    }
}

/// A migration script failed: which file, which line, and PostgreSQL's own words.
public struct MigrationError: Error, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var underlying: PostgresError

    public var description: String {
        let location = line.map { "\(path):\($0)" } ?? path
        return "\(location): \(underlying.message)" + (underlying.sqlState.map { " (SQLSTATE \($0))" } ?? "")
    }
}
