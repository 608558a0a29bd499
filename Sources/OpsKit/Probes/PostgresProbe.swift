/// Probes PostgreSQL: connects, reads the server version and counts applied migrations.
public struct PostgresProbe: Sendable {
    public var url: String

    public init(url: String) { self.url = url }

    public func run(in environment: ProbeEnvironment) async -> ComponentReport {
        let info: PostgresConnectionInfo
        do {
            info = try PostgresConnectionInfo(parsing: url)
        } catch {
            return .failed(name: "postgres", kind: .postgres, endpoint: nil, error: error)
        }
        do {
            let started = ContinuousClock.now
            let connection = try await PostgresConnection.connect(url: url, timeout: environment.timeout, pool: environment.pool, onCancel: .abandon)
            defer { connection.close() }
            let result = try await connection.query(
                "SELECT current_setting('server_version') AS version, to_regclass('schema_migrations') IS NOT NULL AS has_migrations",
                timeout: environment.timeout)
            let latency = ContinuousClock.now - started
            let version = result.rows.first?["version"].string ?? "unknown"
            var migrations: Int?
            if result.rows.first?["has_migrations"].bool == true {
                migrations = try await connection.query("SELECT count(*) AS n FROM schema_migrations", timeout: environment.timeout)
                    .rows.first?["n"].int
            }
            var notes = ["PostgreSQL \(version)"]
            notes.append(migrations.map { "\($0) migrations applied" } ?? "no schema_migrations table")
            return ComponentReport(
                name: "postgres", kind: .postgres, status: .ok, detail: notes.joined(separator: ", "), latency: latency,
                endpoint: info.endpoint,
                facts: [
                    ("server_version", .string(version)), ("database", info.database.map(JSONValue.string) ?? .null),
                    ("migrations_applied", migrations.map(JSONValue.int) ?? .null),
                ])
        } catch {
            return .failed(name: "postgres", kind: .postgres, endpoint: info.endpoint, error: error)
        }
    }
}
