import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// The lock as a PostgreSQL session advisory lock, held by a connection kept open while the lock
/// is: a holder that dies lets it go with its session. The holder is named by the session's
/// application_name, which pg_stat_activity shows.
public final class PostgresLockBackend: LockBackend, Sendable {
    public let url: String
    public let deployment: String
    private let pool: NIOThreadPool
    private let held = NIOLockedValueBox<PostgresConnection?>(nil)

    public init(url: String, deployment: String, pool: NIOThreadPool = .singleton) {
        self.url = url
        self.deployment = deployment
        self.pool = pool
    }

    /// Stable across runs and hosts: derived from the deployment's name.
    var key: Int64 {
        let digest = Digest.sha256(Array("whisperctl-lock:\(deployment)".utf8))
        return digest.prefix(8).reduce(Int64(0)) { ($0 << 8) | Int64($1) } & 0x7fff_ffff_ffff_ffff
    }

    public var description: String { "postgres advisory lock \(key) on \((try? PostgresConnectionInfo(parsing: url))?.endpoint ?? "?")" }
    public var heartbeatInterval: Duration? { nil }

    /// "whisperctl|backup|alice|ops1|4242|1764453600|token" (application_name holds 63 bytes at most;
    /// the token is cut first).
    static func applicationName(_ holder: LockHolder) -> String {
        let fields = ["whisperctl", holder.command, holder.user, holder.host, String(holder.pid), String(Int(holder.startedAt.timeIntervalSince1970)), holder.token]
        return String(fields.map { $0.replacingOccurrences(of: "|", with: "/") }.joined(separator: "|").utf8.prefix(63)) ?? "whisperctl"
    }

    static func holder(applicationName name: String) -> LockHolder? {
        let fields = name.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 6, fields[0] == "whisperctl" else { return nil }
        return LockHolder(
            user: fields[2], host: fields[3], pid: Int(fields[4]) ?? 0, command: fields[1],
            startedAt: Date(timeIntervalSince1970: Double(fields[5]) ?? 0), heartbeatAt: nil, token: fields.count > 6 ? fields[6] : "")
    }

    public func tryAcquire(_ holder: LockHolder) async throws -> LockHolder? {
        let connection = try await PostgresConnection.connect(url: url, timeout: .seconds(5), pool: pool)
        do {
            try await connection.query("SELECT set_config('application_name', $1, false)", [Self.applicationName(holder)])
            let locked = try await connection.query("SELECT pg_try_advisory_lock($1)", [Int(key)])
            if locked.rows.first?[0].bool == true {
                held.withLockedValue { $0 = connection }
                return nil
            }
            connection.close()
        } catch {
            connection.close()
            throw error
        }
        return try await current() ?? LockHolder.current(command: "(unknown: another session)")
    }

    public func heartbeat(_ holder: LockHolder) async throws -> Bool { true }

    public func release(_ holder: LockHolder) async throws {
        guard let connection = held.withLockedValue({ $0.take() }) else { return }
        // Ending the session releases the advisory lock whether or not the unlock got through.
        _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Int(key)])
        connection.close()
    }

    /// The session holding the advisory lock, from pg_locks and pg_stat_activity.
    public func current() async throws -> LockHolder? {
        let connection = try await PostgresConnection.connect(url: url, timeout: .seconds(5), pool: pool)
        defer { connection.close() }
        let result = try await connection.query(
            """
            SELECT a.application_name, a.pid, a.usename, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1
            """, [Int(key >> 32), Int(key & 0xffff_ffff)])
        guard let row = result.rows.first else { return nil }
        if let holder = Self.holder(applicationName: row[0].string ?? "") { return holder }
        return LockHolder(
            user: row[2].string ?? "?", host: "postgres backend \(row[1].int ?? 0)", pid: row[1].int ?? 0,
            command: row[0].string.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown", startedAt: row[3].date ?? Date(), heartbeatAt: nil, token: "")
    }

    /// Ends the holder's session (pg_terminate_backend), which releases its lock.
    public func breakLock(_ holder: LockHolder) async throws {
        let connection = try await PostgresConnection.connect(url: url, timeout: .seconds(5), pool: pool)
        defer { connection.close() }
        let result = try await connection.query(
            """
            SELECT pg_terminate_backend(l.pid) FROM pg_locks l
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1
            """, [Int(key >> 32), Int(key & 0xffff_ffff)])
        guard result.rows.first?[0].bool == true else {
            throw OpsError(.serverError, "could not end the holder's session (needs pg_signal_backend or the same role)", endpoint: description)
        }
    }
}
