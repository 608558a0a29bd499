import Foundation

/// `diag postgres`: version, connections against max_connections, sizes, long queries, waiting
/// locks with the query that blocks them, the migrations' state, replication lag.
public struct PostgresDiagnosis: Sendable {
    public var url: String
    public var migrationsDirectory: String?
    /// A query running longer than this is named.
    var longQuery: Duration = .seconds(30)

    public init(url: String, migrationsDirectory: String?) {
        self.url = url
        self.migrationsDirectory = migrationsDirectory
    }

    public func run(in environment: ProbeEnvironment) async -> [Finding] {
        let endpoint = (try? PostgresConnectionInfo(parsing: url))?.endpoint ?? "postgres"
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(url: url, timeout: environment.timeout, pool: environment.pool, onCancel: .abandon)
        } catch {
            return [Finding(
                "postgres", "reachable", .critical, "PostgreSQL does not answer at \(endpoint)", observed: "\(error)", source: GuideSection.operations,
                fix: "systemctl status postgresql (or docker compose ps postgres); DATABASE_URL / postgres.url; pg_isready -h HOST -p PORT")]
        }
        defer { connection.close() }
        var findings: [Finding] = []
        do {
            let timeout = environment.timeout
            // Looking must never queue behind the locks it is looking for.
            _ = try await connection.query("SELECT set_config('lock_timeout', '500ms', false)", timeout: timeout)
            let version = try await connection.query("SHOW server_version", timeout: timeout).rows.first?[0].string ?? "?"
            let usage = try await connection.query(
                "SELECT (SELECT count(*) FROM pg_stat_activity), current_setting('max_connections')::int, pg_database_size(current_database()), current_database()",
                timeout: timeout)
            if let row = usage.rows.first {
                let used = row[0].int ?? 0
                let limit = row[1].int ?? 100
                let ratio = Double(used) / Double(max(1, limit))
                findings.append(Finding(
                    "postgres", "connections", ratio >= 0.8 ? .warning : .ok, ratio >= 0.8 ? "connections near max_connections" : "PostgreSQL \(version)",
                    observed: "\(used) of max_connections \(limit); database \(row[3].string ?? "?") \(ByteCount.format(row[2].int ?? 0))",
                    recommended: ratio >= 0.8 ? "under 80%: a pooler (pgbouncer) or a higher max_connections" : nil,
                    fix: ratio >= 0.8 ? "SELECT usename, application_name, count(*) FROM pg_stat_activity GROUP BY 1, 2 ORDER BY 3 DESC;" : nil))
            }
            // From pg_class (as of the last VACUUM/ANALYZE): sizing a table someone holds locked would wait.
            let tables = try await connection.query(
                """
                SELECT c.relname, (c.relpages::bigint + coalesce(t.relpages, 0)) * current_setting('block_size')::bigint
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
                WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 2 DESC LIMIT 5
                """, timeout: timeout)
            if !tables.rows.isEmpty {
                findings.append(Finding("postgres", "tables", .ok, "largest tables (pg_class estimate)",
                    observed: tables.rows.map { "\($0[0].string ?? "?") \(ByteCount.format($0[1].int ?? 0))" }.joined(separator: ", ")))
            }
            let long = try await connection.query(
                """
                SELECT pid, usename, state, extract(epoch FROM now() - query_start)::int, left(regexp_replace(query, '\\s+', ' ', 'g'), 80)
                FROM pg_stat_activity
                WHERE state <> 'idle' AND pid <> pg_backend_pid() AND query_start < now() - make_interval(secs => $1)
                ORDER BY query_start LIMIT 5
                """, [Int(longQuery.seconds)], timeout: timeout)
            if !long.rows.isEmpty {
                findings.append(Finding(
                    "postgres", "long-queries", .warning, "\(long.rows.count) queries running over \(longQuery.humanReadable)",
                    observed: long.rows.map { "pid \($0[0].int ?? 0) (\($0[1].string ?? "?"), \($0[2].string ?? "?"), \($0[3].int ?? 0) s): \($0[4].string ?? "")" }.joined(separator: "; "),
                    fix: "SELECT pg_cancel_backend(PID); -- or pg_terminate_backend(PID) when cancelling is not enough"))
            }
            let waiting = try await connection.query(
                """
                SELECT w.pid, extract(epoch FROM now() - w.query_start)::int, left(regexp_replace(w.query, '\\s+', ' ', 'g'), 60),
                       b.pid, left(regexp_replace(b.query, '\\s+', ' ', 'g'), 60), b.state
                FROM pg_stat_activity w
                JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocker(pid) ON true
                JOIN pg_stat_activity b ON b.pid = blocker.pid
                WHERE w.wait_event_type = 'Lock' LIMIT 5
                """, timeout: timeout)
            if !waiting.rows.isEmpty {
                findings.append(Finding(
                    "postgres", "lock-waits", .warning, "\(waiting.rows.count) queries wait for a lock",
                    observed: waiting.rows.map { "pid \($0[0].int ?? 0) waits \($0[1].int ?? 0) s (\($0[2].string ?? "")) behind pid \($0[3].int ?? 0) [\($0[5].string ?? "?")]: \($0[4].string ?? "")" }.joined(separator: "; "),
                    recommended: "no lock waits; migrations run with lock_timeout (whisperctl migrate)",
                    fix: "SELECT pg_cancel_backend(BLOCKING_PID); -- the blocker above; 'idle in transaction' blockers need pg_terminate_backend"))
            }
            let replicas = try await connection.query(
                "SELECT application_name, state, coalesce(extract(epoch FROM replay_lag), 0) FROM pg_stat_replication", timeout: timeout)
            for row in replicas.rows {
                let lag = row[2].double ?? 0
                findings.append(Finding("postgres", "replication", lag > 30 ? .warning : .ok, "replica \(row[0].string ?? "?")",
                    observed: String(format: "%@, replay lag %.1f s", row[1].string ?? "?", lag)))
            }
            if let migrationsDirectory, FileManager.default.fileExists(atPath: migrationsDirectory) {
                let statuses = try await MigrationRunner(connection: connection, migrations: try MigrationDirectory.load(migrationsDirectory)).status()
                let report = MigrationsProbe(url: url, directory: migrationsDirectory).evaluate(statuses, endpoint: endpoint)
                findings.append(Finding(
                    "postgres", "migrations", report.status == .ok ? .ok : .warning, "schema migrations", observed: report.detail,
                    fix: report.status == .ok ? nil : "whisperctl migrate status; whisperctl migrate up (or force after a dirty failure)"))
            }
        } catch {
            findings.append(Finding("postgres", "query", .unknown, "PostgreSQL answered, but a diagnostic query failed", observed: "\(error)"))
        }
        return findings
    }
}
