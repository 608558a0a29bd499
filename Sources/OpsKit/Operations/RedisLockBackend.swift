import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// The lock as a Redis key holding the holder (JSON), with a TTL its heartbeat keeps extending:
/// a holder that crashes or hangs lets it expire within `ttl`.
public final class RedisLockBackend: LockBackend, Sendable {
    public let address: RedisAddress
    public let key: String
    public let ttl: Duration
    private let pool: NIOThreadPool
    private let connection = NIOLockedValueBox<RedisConnection?>(nil)

    public init(address: RedisAddress, key: String, ttl: Duration = .seconds(30), pool: NIOThreadPool = .singleton) {
        self.address = address
        self.key = key
        self.ttl = ttl
        self.pool = pool
    }

    public var description: String { "redis \(address) key \(key)" }
    public var heartbeatInterval: Duration? { ttl / 3 }

    private var ttlMilliseconds: String { String(Int(ttl.seconds * 1000)) }

    /// Replaces the value only while it still holds our token (the holder's JSON, read by cjson).
    static let extendScript = """
        local current = redis.call('GET', KEYS[1])
        if current and cjson.decode(current)['token'] == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
          return 1
        end
        return 0
        """
    static let releaseScript = """
        local current = redis.call('GET', KEYS[1])
        if current and cjson.decode(current)['token'] == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """
    static let breakScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """

    private func send(_ arguments: [String]) async throws -> RESPValue {
        let open = try await {
            if let existing = connection.withLockedValue({ $0 }) { return existing }
            let fresh = try await RedisConnection.connect(to: address, timeout: .seconds(2), pool: pool)
            connection.withLockedValue { $0 = fresh }
            return fresh
        }()
        do {
            return try await open.send(arguments)
        } catch {
            // The next call reconnects.
            connection.withLockedValue { $0 = nil }
            open.close()
            throw error
        }
    }

    public func tryAcquire(_ holder: LockHolder) async throws -> LockHolder? {
        let value = holder.json.serialized()
        let reply = try await send(["SET", key, value, "NX", "PX", ttlMilliseconds])
        if reply.string == "OK" { return nil }
        // Taken: by whom (it may have expired in between; then try again next round).
        return try await current() ?? holder.with(command: "(expired just now)")
    }

    public func heartbeat(_ holder: LockHolder) async throws -> Bool {
        var renewed = holder
        renewed.heartbeatAt = Date()
        let reply = try await send(["EVAL", Self.extendScript, "1", key, holder.token, renewed.json.serialized(), ttlMilliseconds])
        return reply.int == 1
    }

    public func release(_ holder: LockHolder) async throws {
        defer { connection.withLockedValue { $0.take() }?.close() }
        _ = try await send(["EVAL", Self.releaseScript, "1", key, holder.token])
    }

    public func current() async throws -> LockHolder? {
        guard let text = try await send(["GET", key]).string else { return nil }
        guard let value = try? JSONValue.parse(Array(text.utf8)), let holder = LockHolder(json: value) else {
            throw OpsError(.protocolError, "the lock key holds something else: \(text.prefix(80))", endpoint: description)
        }
        return holder
    }

    public func breakLock(_ holder: LockHolder) async throws {
        // Deletes only the exact value read: a holder that renewed or a new one is left alone.
        guard let text = try await send(["GET", key]).string,
            let value = try? JSONValue.parse(Array(text.utf8)), LockHolder(json: value)?.token == holder.token
        else { throw OpsError(.invalidInput, "the lock changed hands; look again with 'whisperctl lock status'", endpoint: description) }
        _ = try await send(["EVAL", Self.breakScript, "1", key, text])
    }
}

extension LockHolder {
    func with(command: String) -> LockHolder {
        var copy = self
        copy.command = command
        return copy
    }
}
