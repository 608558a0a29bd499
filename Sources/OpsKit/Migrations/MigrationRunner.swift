import Foundation

/// Applies and reverts migrations, recording them in `schema_migrations`.
///
/// Each migration runs in its own transaction together with its bookkeeping row, so a failed one
/// leaves nothing behind, unless its header opts out (`-- whisper:no-transaction`): it then runs
/// statement by statement, marked dirty until it completes, and a failure part way leaves it dirty
/// for a human to fix. Every migration runs under `SET lock_timeout`, and one that times out
/// waiting for a lock (or is chosen as a deadlock victim) is retried a bounded number of times with
/// backoff: it never queues user traffic behind it for long. One run at a time: a PostgreSQL
/// advisory lock, waited for (saying who holds it) or refused at once.
public struct MigrationRunner: Sendable {
    /// What the database says about one migration.
    public struct Status: Sendable, Equatable {
        public var version: Int
        public var name: String
        public var appliedAt: Date?
        public var durationMilliseconds: Int?
        /// The up script changed after it was applied.
        public var modified: Bool
        /// Applied in the database but no longer among the files.
        public var missingFile: Bool
        /// Started outside a transaction and not finished: the schema may be half changed.
        public var dirty: Bool
        public var transactional: Bool

        public var isApplied: Bool { appliedAt != nil && !dirty }
    }

    public struct Options: Sendable {
        /// `SET lock_timeout` for each migration.
        public var lockTimeout: Duration = .seconds(5)
        /// Attempts after the first when a lock times out (55P03) or a deadlock aborts (40P01).
        public var retries = 3
        public var backoff: Duration = .seconds(1)
        /// Fail at once when another run holds the migration lock, instead of waiting.
        public var noWait = false
        /// Told once who holds the migration lock while waiting for it.
        public var waiting: @Sendable (String) -> Void = { _ in }
        /// Told of each retry.
        public var retrying: @Sendable (String) -> Void = { _ in }
        /// Names this run in pg_stat_activity, so a second run waiting on the lock can say who holds it.
        public var applicationName: String?

        public init() {}
    }

    public let connection: PostgresConnection
    public let migrations: [Migration]
    public var options: Options
    /// An arbitrary key for `pg_advisory_lock`, the same for every runner of this schema.
    static let lockKey = 7_316_952_001

    public init(connection: PostgresConnection, migrations: [Migration], options: Options = Options()) {
        self.connection = connection
        self.migrations = migrations
        self.options = options
    }

    /// Applied and pending migrations. Reads only: a database without schema_migrations has
    /// everything pending, and nothing is created.
    public func status() async throws -> [Status] {
        let applied = try await appliedRows()
        var statuses = migrations.map { migration in
            let row = applied[migration.version]
            return Status(
                version: migration.version, name: migration.name, appliedAt: row?.appliedAt, durationMilliseconds: row?.duration,
                modified: row.map { $0.checksum != migration.checksum } ?? false, missingFile: false, dirty: row?.dirty ?? false,
                transactional: migration.upIsTransactional)
        }
        for (version, row) in applied where !migrations.contains(where: { $0.version == version }) {
            statuses.append(Status(
                version: version, name: row.name, appliedAt: row.appliedAt, durationMilliseconds: row.duration, modified: false,
                missingFile: true, dirty: row.dirty, transactional: true))
        }
        return statuses.sorted { $0.version < $1.version }
    }

    /// The migrations `up(to:)` would apply, in order.
    /// Reads only, like `status`: a dry run works with a read-only role and creates nothing.
    func pendingUp(to target: Int? = nil) async throws -> [Migration] {
        let applied = try await appliedRows()
        try Self.refuseDirty(applied)
        return try plannedUp(applied: applied, to: target)
    }

    /// Every command but status and force stops at a dirty version.
    static func refuseDirty(_ applied: [Int: AppliedRow]) throws {
        if let dirty = applied.filter({ $0.value.dirty }).min(by: { $0.key < $1.key }) {
            throw MigrationDirtyError(version: dirty.key, name: dirty.value.name)
        }
    }

    /// Applies pending migrations in order, up to and including `target` when given.
    /// - Returns: the migrations applied (or, with `dryRun`, those that would be).
    @discardableResult
    public func up(to target: Int? = nil, dryRun: Bool = false) async throws -> [Migration] {
        if dryRun { return try await pendingUp(to: target) }
        return try await withLock {
            let pending = try plannedUp(applied: try await appliedRows(), to: target)
            for migration in pending { try await apply(migration, direction: .up) }
            return pending
        }
    }

    /// The migrations `down(steps:)` would revert, newest first.
    func pendingDown(steps: Int = 1) async throws -> [Migration] {
        let applied = try await appliedRows()
        try Self.refuseDirty(applied)
        return try plannedDown(applied: applied, steps: steps)
    }

    /// Reverts the `steps` most recently applied migrations, newest first.
    @discardableResult
    public func down(steps: Int = 1, dryRun: Bool = false) async throws -> [Migration] {
        if dryRun { return try await pendingDown(steps: steps) }
        return try await withLock {
            let reverting = try plannedDown(applied: try await appliedRows(), steps: steps)
            for migration in reverting { try await apply(migration, direction: .down) }
            return reverting
        }
    }

    /// Moves the schema to `version`: up through the pending ones at or below it, or down through
    /// the applied ones above it. 0 reverts everything.
    public func goto(_ version: Int, dryRun: Bool = false) async throws -> (direction: Direction, migrations: [Migration]) {
        // `up` and `down` create the table under their lock; a dry run only reads.
        let applied = try await appliedRows()
        try Self.refuseDirty(applied)
        let above = applied.keys.filter { $0 > version }.count
        if above > 0 {
            return (.down, dryRun ? try plannedDown(applied: applied, steps: above) : try await down(steps: above))
        }
        guard version == 0 || migrations.contains(where: { $0.version == version }) else {
            throw OpsError(.invalidInput, "no migration \(version) (known: \(migrations.map { String($0.version) }.joined(separator: ", ")))")
        }
        return (.up, dryRun ? try plannedUp(applied: applied, to: version) : try await up(to: version))
    }

    /// Records that the schema is at exactly `version`, clean, after a human fixed a dirty state:
    /// migrations at or below it count as applied (added with their current checksum where
    /// missing), those above as not applied. Runs no migration SQL.
    /// - Returns: the bookkeeping statements it ran.
    @discardableResult
    public func force(_ version: Int) async throws -> [String] {
        guard version == 0 || migrations.contains(where: { $0.version == version }) else {
            throw OpsError(.invalidInput, "no migration \(version) (known: \(migrations.map { String($0.version) }.joined(separator: ", ")))")
        }
        return try await withLock(allowDirty: true) {
            var done: [String] = []
            try await connection.execute(script: "BEGIN")
            do {
                let removed = try await connection.query("DELETE FROM schema_migrations WHERE version > $1", [version])
                done.append("DELETE FROM schema_migrations WHERE version > \(version)  -- \(removed.affectedRows ?? 0) rows")
                try await connection.query("UPDATE schema_migrations SET dirty = false WHERE dirty")
                let applied = try await appliedRows()
                for migration in migrations where migration.version <= version && applied[migration.version] == nil {
                    try await record(migration, duration: nil, dirty: false)
                    done.append("INSERT INTO schema_migrations ... (\(migration.version), '\(migration.name)')  -- forced")
                }
                try await connection.execute(script: "COMMIT")
            } catch {
                // The error being thrown is the one to report; a failed ROLLBACK ends with the session.
                _ = try? await connection.execute(script: "ROLLBACK")
                throw error
            }
            return done
        }
    }

    public enum Direction: String, Sendable {
        case up, down
    }

    /// The exact SQL a run sends, in order: what `--dry-run` prints.
    public func plan(_ migrations: [Migration], direction: Direction) -> String {
        var out: [String] = []
        let timeout = "\(Int(options.lockTimeout.seconds * 1000))ms"
        for migration in migrations {
            let (path, script, transactional) =
                direction == .up
                ? (migration.upPath, migration.up, migration.upIsTransactional)
                : (migration.downPath ?? "(no down script)", migration.down ?? "", migration.downIsTransactional)
            out.append("-- \(migration.label) \(direction.rawValue): \(path)\(transactional ? "" : " (no transaction: statement by statement)")")
            let bookkeeping =
                direction == .up
                ? "INSERT INTO schema_migrations (version, name, checksum, duration_ms, dirty) VALUES (\(migration.version), '\(migration.name)', '\(migration.checksum)', <elapsed>, false);"
                : "DELETE FROM schema_migrations WHERE version = \(migration.version);"
            if transactional {
                out += ["BEGIN;", "SET LOCAL lock_timeout = '\(timeout)';", script.trimmingTrailingWhitespace, bookkeeping, "COMMIT;", ""]
            } else {
                out.append(direction == .up ? "INSERT INTO schema_migrations (...) VALUES (\(migration.version), ..., dirty => true);" : "UPDATE schema_migrations SET dirty = true WHERE version = \(migration.version);")
                out.append("SET lock_timeout = '\(timeout)';")
                for statement in SQLStatements.split(script) { out.append(statement.text + ";") }
                out += [direction == .up ? "UPDATE schema_migrations SET dirty = false, duration_ms = <elapsed> WHERE version = \(migration.version);" : bookkeeping, "RESET lock_timeout;", ""]
            }
        }
        return out.joined(separator: "\n")
    }

    // MARK: Internals

    struct AppliedRow {
        var name: String
        var checksum: String
        var appliedAt: Date?
        var duration: Int?
        var dirty: Bool
    }

    private func plannedUp(applied: [Int: AppliedRow], to target: Int?) throws -> [Migration] {
        for migration in migrations {
            if let row = applied[migration.version], row.checksum != migration.checksum {
                throw MigrationChecksumError(version: migration.version, path: migration.upPath)
            }
        }
        let pending = migrations.filter { applied[$0.version] == nil && $0.version <= (target ?? .max) }
        // `migrate create`'s template is comments only: applying it would record a change that
        // never happened.
        if let empty = pending.first(where: { SQLStatements.split($0.up).isEmpty }) {
            throw OpsError(
                .invalidInput, "has no SQL statement, only comments (the template 'migrate create' writes?): write the migration, or remove the file",
                endpoint: empty.upPath)
        }
        return pending
    }

    private func plannedDown(applied: [Int: AppliedRow], steps: Int) throws -> [Migration] {
        try applied.keys.sorted(by: >).prefix(max(0, steps)).map { version in
            guard let migration = migrations.first(where: { $0.version == version }) else {
                throw OpsError(.invalidInput, "migration \(version) is applied but its files are gone")
            }
            guard migration.down != nil else {
                throw OpsError(.invalidInput, "migration \(version) has no down script", endpoint: migration.upPath)
            }
            return migration
        }
    }

    /// Creates schema_migrations, or adds the columns an older one lacks; only what is missing,
    /// so a migration run prints no "already exists, skipping" notices.
    private func ensureTable() async throws {
        let columns = try await tableColumns()
        var statements: [String] = []
        if !columns.contains("version") {
            statements.append("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    BIGINT      PRIMARY KEY,
                    name       TEXT        NOT NULL,
                    checksum   TEXT        NOT NULL,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """)
        }
        if !columns.contains("duration_ms") { statements.append("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS duration_ms BIGINT") }
        if !columns.contains("dirty") { statements.append("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS dirty BOOLEAN NOT NULL DEFAULT false") }
        guard !statements.isEmpty else { return }
        try await connection.execute(script: statements.joined(separator: ";\n"))
    }

    /// The columns of schema_migrations in the current schema; empty when there is no table.
    private func tableColumns() async throws -> Set<String> {
        let columns = try await connection.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'schema_migrations' AND table_schema = current_schema()")
        return Set(columns.rows.compactMap { $0[0].string })
    }

    func appliedRows() async throws -> [Int: AppliedRow] {
        let names = try await tableColumns()
        guard names.contains("version") else { return [:] }
        // A table from before duration and dirty were kept reads as clean, duration unknown.
        let duration = names.contains("duration_ms") ? "duration_ms" : "NULL::bigint"
        let dirty = names.contains("dirty") ? "dirty" : "false"
        let result = try await connection.query("SELECT version, name, checksum, applied_at, \(duration), \(dirty) FROM schema_migrations")
        var rows: [Int: AppliedRow] = [:]
        for row in result.rows {
            guard let version = row[0].int else { continue }
            rows[version] = AppliedRow(
                name: row[1].string ?? "", checksum: row[2].string ?? "", appliedAt: row[3].date, duration: row[4].int,
                dirty: row[5].bool ?? false)
        }
        return rows
    }

    /// Holds the migration lock around `body`, waiting for another run unless `noWait`; refuses
    /// to touch a dirty schema except to force it.
    private func withLock<T>(allowDirty: Bool = false, _ body: () async throws -> T) async throws -> T {
        try await ensureTable()
        if let name = options.applicationName {
            try await connection.query("SELECT set_config('application_name', $1, false)", [String(name.utf8.prefix(63)) ?? "whisperctl"])
        }
        var told = false
        while true {
            let locked = try await connection.query("SELECT pg_try_advisory_lock($1)", [Self.lockKey])
            if locked.rows.first?[0].bool == true { break }
            let holder = try await lockHolder()
            if options.noWait { throw MigrationLockHeldError(holder: holder) }
            if !told {
                options.waiting(holder)
                told = true
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        do {
            if !allowDirty { try Self.refuseDirty(try await appliedRows()) }
            let result = try await body()
            try await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
            return result
        } catch {
            // The session ends right after, which releases the advisory lock anyway.
            _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
            throw error
        }
    }

    /// Who holds the migration lock: the session's application name, user, address and since when.
    private func lockHolder() async throws -> String {
        let result = try await connection.query(
            """
            SELECT a.application_name, a.usename, host(a.client_addr), a.pid, a.xact_start, a.backend_start
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1
            """, [Self.lockKey >> 32, Self.lockKey & 0xffff_ffff])
        guard let row = result.rows.first else { return "a session that just let go" }
        let application = row[0].string.flatMap { $0.isEmpty ? nil : $0 } ?? "a session"
        let since = (row[4].date ?? row[5].date).map { " since \(ISO8601DateFormatter().string(from: $0))" } ?? ""
        return "\(application) (role \(row[1].string ?? "?"), from \(row[2].string ?? "local socket"), backend pid \(row[3].int ?? 0))\(since)"
    }

    private func apply(_ migration: Migration, direction: Direction) async throws {
        let path = direction == .up ? migration.upPath : migration.downPath!
        let script = direction == .up ? migration.up : migration.down!
        let transactional = direction == .up ? migration.upIsTransactional : migration.downIsTransactional
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            do {
                if transactional {
                    try await runInTransaction(migration, script: script, path: path, direction: direction, started: started)
                } else {
                    try await runStatementByStatement(migration, script: script, path: path, direction: direction, started: started)
                }
                return
            } catch let error as MigrationError where error.isLockConflict && attempt < options.retries {
                attempt += 1
                let delay = options.backoff * (1 << (attempt - 1))
                options.retrying("\(migration.label): \(error.underlying.message) (SQLSTATE \(error.underlying.sqlState ?? "?")); attempt \(attempt + 1) of \(options.retries + 1) in \(delay.humanReadable)")
                try await Task.sleep(for: delay)
            }
        }
    }

    /// 0 is PostgreSQL's "wait without a limit".
    private var lockTimeoutSetting: String { options.lockTimeout == .zero ? "0" : "\(max(1, Int(options.lockTimeout.seconds * 1000)))ms" }

    private func runInTransaction(_ migration: Migration, script: String, path: String, direction: Direction, started: ContinuousClock.Instant) async throws {
        try await connection.execute(script: "BEGIN")
        do {
            try await connection.query("SELECT set_config('lock_timeout', $1, true)", [lockTimeoutSetting])
            do {
                try await connection.execute(script: script, timeout: .seconds(86_400))
            } catch let error as PostgresError {
                throw MigrationError(path: path, script: script, underlying: error)
            }
            if direction == .up {
                try await record(migration, duration: Self.milliseconds(since: started), dirty: false)
            } else {
                try await connection.query("DELETE FROM schema_migrations WHERE version = $1", [migration.version])
            }
            try await connection.execute(script: "COMMIT")
        // The error being thrown is the one to report; a failed ROLLBACK ends with the session.
        } catch {
            _ = try? await connection.execute(script: "ROLLBACK")
            throw error
        }
    }

    /// Outside a transaction: the row says dirty from the first statement until the last is done.
    private func runStatementByStatement(_ migration: Migration, script: String, path: String, direction: Direction, started: ContinuousClock.Instant) async throws {
        if direction == .up {
            try await connection.query(
                "INSERT INTO schema_migrations (version, name, checksum, dirty) VALUES ($1, $2, $3, true) ON CONFLICT (version) DO UPDATE SET dirty = true",
                [migration.version, migration.name, migration.checksum])
        } else {
            try await connection.query("UPDATE schema_migrations SET dirty = true WHERE version = $1", [migration.version])
        }
        try await connection.query("SELECT set_config('lock_timeout', $1, false)", [lockTimeoutSetting])
        do {
            try await runStatements(of: migration, script: script, path: path)
            // A session setting: it ends with the connection if RESET fails.
            _ = try? await connection.execute(script: "RESET lock_timeout")
        // A session setting: it ends with the connection if RESET fails.
        } catch {
            _ = try? await connection.execute(script: "RESET lock_timeout")
            throw error
        }
        if direction == .up {
            try await connection.query(
                "UPDATE schema_migrations SET dirty = false, duration_ms = $2, applied_at = now() WHERE version = $1",
                [migration.version, Self.milliseconds(since: started)])
        } else {
            try await connection.query("DELETE FROM schema_migrations WHERE version = $1", [migration.version])
        }
    }

    private func runStatements(of migration: Migration, script: String, path: String) async throws {
        for statement in SQLStatements.split(script) {
            var attempt = 0
            while true {
                do {
                    try await connection.execute(script: statement.text, timeout: .seconds(86_400))
                    break
                } catch let error as PostgresError {
                    let failure = MigrationError(path: path, script: script, underlying: error, statement: statement, dirty: true)
                    // A statement that timed out on a lock did nothing: it can be sent again.
                    guard failure.isLockConflict, attempt < options.retries else { throw failure }
                    attempt += 1
                    let delay = options.backoff * (1 << (attempt - 1))
                    options.retrying("\(migration.label) line \(statement.line): \(error.message); attempt \(attempt + 1) of \(options.retries + 1) in \(delay.humanReadable)")
                    try await Task.sleep(for: delay)
                }
            }
        }
    }

    private func record(_ migration: Migration, duration: Int?, dirty: Bool) async throws {
        try await connection.query(
            "INSERT INTO schema_migrations (version, name, checksum, duration_ms, dirty) VALUES ($1, $2, $3, $4, $5)",
            [migration.version, migration.name, migration.checksum, duration.map(String.init), dirty ? "true" : "false"])
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        Int(((ContinuousClock.now - start).seconds * 1000).rounded())
    }

    /// The 1-based line of a 1-based character position, as PostgreSQL reports positions.
    static func line(of position: Int, in text: String) -> Int {
        1 + text.unicodeScalars.prefix(max(0, position - 1)).filter { $0 == "\n" }.count
    }

    /// The 1-based column of a 1-based character position.
    static func column(of position: Int, in text: String) -> Int {
        let before = text.unicodeScalars.prefix(max(0, position - 1))
        return before.count - (before.lastIndex(of: "\n").map { before.distance(from: before.startIndex, to: $0) + 1 } ?? 0) + 1
    }
}

/// A migration script failed: which file, line and column, and PostgreSQL's own words.
public struct MigrationError: Error, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var column: Int?
    var underlying: PostgresError
    /// It ran outside a transaction, so what ran before the failure stays: the version is dirty.
    public var dirty: Bool

    init(path: String, script: String, underlying: PostgresError, statement: SQLStatements.Statement? = nil, dirty: Bool = false) {
        self.path = path
        self.underlying = underlying
        self.dirty = dirty
        if let position = underlying.position {
            if let statement {
                line = statement.line + MigrationRunner.line(of: position, in: statement.text) - 1
                let column = MigrationRunner.column(of: position, in: statement.text)
                // On the statement's first line, its own column is offset by where it starts.
                let lineStart = MigrationRunner.column(of: statement.offset, in: script)
                self.column = MigrationRunner.line(of: position, in: statement.text) == 1 ? lineStart + column - 1 : column
            } else {
                line = MigrationRunner.line(of: position, in: script)
                column = MigrationRunner.column(of: position, in: script)
            }
        } else {
            line = statement?.line
            column = nil
        }
    }

    /// lock_not_available (lock_timeout) or deadlock_detected: worth another attempt.
    var isLockConflict: Bool { underlying.sqlState == "55P03" || underlying.sqlState == "40P01" }

    public var description: String {
        var location = path
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        var text = "\(location): \(underlying.message)" + (underlying.sqlState.map { " (SQLSTATE \($0))" } ?? "")
        if let detail = underlying.detail { text += "\n  detail: \(detail)" }
        if let hint = underlying.hint { text += "\n  hint: \(hint)" }
        if dirty { text += "\n  it ran outside a transaction: the statements before this one stay applied, and the version is marked dirty" }
        return text
    }
}

/// A command met a schema left half-migrated by a failed migration outside a transaction.
public struct MigrationDirtyError: Error, CustomStringConvertible {
    public var version: Int
    public var name: String

    public init(version: Int, name: String) {
        self.version = version
        self.name = name
    }

    public var description: String {
        "migration \(version) (\(name)) is dirty: it failed part way outside a transaction, so the schema may be half changed. "
            + "Fix the database by hand (finish or undo what the migration did), then record where it stands: "
            + "'whisperctl migrate force \(version)' if it is now fully applied, 'whisperctl migrate force \(version - 1)' if it is fully undone"
    }
}

/// An applied migration's up script was edited afterwards: the database and the files disagree.
public struct MigrationChecksumError: Error, CustomStringConvertible {
    public var version: Int
    public var path: String

    public var description: String {
        "migration \(version) changed after it was applied (checksum differs); write a new migration instead at \(path)"
    }
}

/// Another run holds the migration lock, and this one was told not to wait.
public struct MigrationLockHeldError: Error, CustomStringConvertible {
    /// The holder's application_name and pid, as pg_stat_activity shows them.
    public var holder: String

    public var description: String { "another migration run holds the lock: \(holder)" }
}
