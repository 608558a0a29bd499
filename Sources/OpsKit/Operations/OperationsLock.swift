import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// Who holds the deployment's operations lock, and what for.
public struct LockHolder: Sendable, Equatable {
    public var user: String
    public var host: String
    public var pid: Int
    public var command: String
    public var startedAt: Date
    /// The last time the holder proved it is alive (Redis); nil where the backend needs no heartbeat.
    public var heartbeatAt: Date?
    /// Tells this holder from a later one with the same pid.
    public var token: String

    public static func current(command: String) -> LockHolder {
        LockHolder(
            user: AuditLog.operatorName, host: ProcessInfo.processInfo.hostName, pid: Int(getpid()), command: command,
            startedAt: Date(), heartbeatAt: Date(), token: UUID().uuidString)
    }

    /// "alice@ops1 (pid 4242) running 'backup' since 22:01:05 (3m02s ago)".
    public func describe(now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return "\(user)@\(host) (pid \(pid)) running '\(command)' since \(formatter.string(from: startedAt)) "
            + "(\(DisplayFormat.age(now.timeIntervalSince(startedAt))) ago)"
    }

    var json: JSONValue {
        var fields: [(String, JSONValue)] = [
            ("user", .string(user)), ("host", .string(host)), ("pid", .int(pid)), ("command", .string(command)),
            ("started_at", .double(startedAt.timeIntervalSince1970)), ("token", .string(token)),
        ]
        if let heartbeatAt { fields.append(("heartbeat_at", .double(heartbeatAt.timeIntervalSince1970))) }
        return .object(fields)
    }

    init(user: String, host: String, pid: Int, command: String, startedAt: Date, heartbeatAt: Date?, token: String) {
        self.user = user
        self.host = host
        self.pid = pid
        self.command = command
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.token = token
    }

    init?(json: JSONValue) {
        guard let user = json["user"]?.stringValue, let command = json["command"]?.stringValue,
            let started = json["started_at"]?.doubleValue, let token = json["token"]?.stringValue
        else { return nil }
        self.init(
            user: user, host: json["host"]?.stringValue ?? "?", pid: json["pid"]?.intValue ?? 0, command: command,
            startedAt: Date(timeIntervalSince1970: started), heartbeatAt: json["heartbeat_at"]?.doubleValue.map(Date.init(timeIntervalSince1970:)),
            token: token)
    }
}

/// Where the lock lives. One per deployment: whichever of Redis, PostgreSQL and a file the
/// inventory offers first (or `lock.backend`).
public protocol LockBackend: Sendable {
    /// "redis 10.0.0.3:6379 key whisperctl:lock:prod".
    var description: String { get }
    /// Takes the lock for `holder`; when someone else has it, returns them.
    func tryAcquire(_ holder: LockHolder) async throws -> LockHolder?
    /// Proves `holder` is alive; false when the lock is no longer theirs.
    func heartbeat(_ holder: LockHolder) async throws -> Bool
    /// Gives the lock up.
    /// - Throws: when the backend could not be told; the lock then lapses on its own (a Redis key
    ///   at its TTL; a PostgreSQL session or a file descriptor as it closes).
    func release(_ holder: LockHolder) async throws
    func current() async throws -> LockHolder?
    /// Removes `holder`'s lock (it must still be theirs).
    func breakLock(_ holder: LockHolder) async throws
    /// How often `heartbeat` runs; nil when the backend needs none (the holder's session or
    /// file descriptor is the lock).
    var heartbeatInterval: Duration? { get }
}

/// The one deployment-wide lock every mutating command takes, so backups, migrations, restores,
/// certificate renewals, rollouts and dashboard actions never overlap.
public enum OperationsLock {
    public enum Failure: Error, CustomStringConvertible {
        case held(by: LockHolder, backend: String)
        case unavailable(backend: String, reason: String)

        public var description: String {
            switch self {
            case .held(let holder, let backend):
                return "the operations lock is held by \(holder.describe()) [\(backend)]; wait with --wait DURATION, or see 'whisperctl lock status'"
            case .unavailable(let backend, let reason):
                return "cannot take the operations lock (\(backend)): \(reason)"
            }
        }
    }

    /// The backend the inventory implies: `lock.backend` when set, else Redis, else PostgreSQL,
    /// else a lock file beside the inventory.
    public static func backend(for inventory: Inventory, pool: NIOThreadPool = .singleton) throws -> LockBackend {
        let name = inventory.string(.lockBackend)
        let key = "whisperctl:lock:\(inventory.deployment)"
        func file() -> LockBackend {
            FileLockBackend(path: (inventory.baseDirectory as NSString).appendingPathComponent(".whisperctl.lock"))
        }
        switch name {
        case "redis"?:
            guard let address = try inventory.redisAddress() else { throw OpsError(.invalidInput, "lock.backend is redis but redis.addr is not set") }
            return RedisLockBackend(address: address, key: key, pool: pool)
        case "postgres"?:
            guard let url = inventory.postgresURL else { throw OpsError(.invalidInput, "lock.backend is postgres but postgres.url is not set") }
            return PostgresLockBackend(url: url, deployment: inventory.deployment, pool: pool)
        case "file"?:
            return file()
        case nil:
            if let address = try inventory.redisAddress() { return RedisLockBackend(address: address, key: key, pool: pool) }
            if let url = inventory.postgresURL { return PostgresLockBackend(url: url, deployment: inventory.deployment, pool: pool) }
            return file()
        case let other?:
            throw OpsError(.invalidInput, "lock.backend must be redis, postgres or file, not '\(other)'")
        }
    }

    /// Takes the lock, waiting up to `wait` (nil: not at all) while someone else holds it;
    /// `waiting` is told who, once.
    public static func acquire(
        _ backend: LockBackend, command: String, wait: Duration? = nil, waiting: @Sendable (LockHolder) -> Void = { _ in }
    ) async throws -> HeldLock {
        let holder = LockHolder.current(command: command)
        let deadline = ContinuousClock.now + (wait ?? .zero)
        var told = false
        while true {
            let other: LockHolder?
            do {
                other = try await backend.tryAcquire(holder)
            } catch {
                throw Failure.unavailable(backend: backend.description, reason: "\(error)")
            }
            guard let other else { return HeldLock(backend: backend, holder: holder) }
            guard wait != nil, ContinuousClock.now < deadline else { throw Failure.held(by: other, backend: backend.description) }
            if !told {
                waiting(other)
                told = true
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }
}

/// A lock this process holds: its heartbeat runs until `release`.
public final class HeldLock: Sendable {
    public let backend: LockBackend
    public let holder: LockHolder
    private let heartbeat: Task<Void, Never>?
    private let lostBox = NIOLockedValueBox(false)
    private let failuresBox = NIOLockedValueBox(0)

    init(backend: LockBackend, holder: LockHolder) {
        self.backend = backend
        self.holder = holder
        let lost = lostBox
        let failures = failuresBox
        heartbeat = backend.heartbeatInterval.map { interval in
            Task {
                while (try? await Task.sleep(for: interval)) != nil {
                    // A failed heartbeat is retried; only a lock taken by someone else is lost.
                    do {
                        if try await backend.heartbeat(holder) == false { lost.withLockedValue { $0 = true } }
                    } catch {
                        failures.withLockedValue { $0 += 1 }
                    }
                }
            }
        }
    }

    /// True once the lock was found in other hands (it expired while this process stalled).
    public var lost: Bool { lostBox.withLockedValue { $0 } }

    /// Heartbeats that could not reach the backend (each retried at the next interval).
    var failedHeartbeats: Int { failuresBox.withLockedValue { $0 } }

    /// - Returns: why the backend could not be told, when it could not (the lock then lapses on
    ///   its own; the runner says so and audits it).
    @discardableResult
    public func release() async -> (any Error)? {
        // Awaited, so no heartbeat in flight can extend the lock after it is released.
        heartbeat?.cancel()
        await heartbeat?.value
        do {
            try await backend.release(holder)
            return nil
        } catch {
            return error
        }
    }

    /// Runs `body` holding the lock, and releases it however `body` ends.
    func whileHeld<T>(_ body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }
}
