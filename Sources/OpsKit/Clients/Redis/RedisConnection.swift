import CHiredis
import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// One connection to a Redis server over hiredis.
///
/// hiredis' synchronous API blocks, so every call runs on a `NIOThreadPool` thread and never on
/// an event loop. The context is not thread-safe: `lock` serialises its use, which is why the
/// class can honestly be `@unchecked Sendable`.
public final class RedisConnection: @unchecked Sendable {
    public let address: RedisAddress
    private let context: UnsafeMutablePointer<redisContext>
    private let lock = NIOLock()
    private let pool: NIOThreadPool
    private let timeout: Duration
    private let onCancel: BlockingCallCancellation
    private var closed = false

    private init(
        address: RedisAddress, context: UnsafeMutablePointer<redisContext>, pool: NIOThreadPool, timeout: Duration,
        onCancel: BlockingCallCancellation
    ) {
        self.address = address
        self.context = context
        self.pool = pool
        self.timeout = timeout
        self.onCancel = onCancel
    }

    deinit {
        if !closed { redisFree(context) }
    }

    /// Connects, then authenticates and selects the database when the address asks for it.
    /// - Parameters:
    ///   - address: the server; its password and database, when set, are sent as AUTH and SELECT.
    ///   - timeout: bounds the connect and, afterwards, each read and write.
    ///   - pool: where the blocking hiredis calls run.
    ///   - onCancel: whether a cancelled caller waits for a call in progress (`.abandon` for probes).
    public static func connect(
        to address: RedisAddress, timeout: Duration = .seconds(2), pool: NIOThreadPool = .singleton,
        onCancel: BlockingCallCancellation = .finish
    ) async throws -> RedisConnection {
        let connection = try await pool.run(onCancel) {
            try RedisConnection.openBlocking(address, timeout: timeout, pool: pool, onCancel: onCancel)
        }
        if let password = address.password {
            do {
                _ = try await connection.send(["AUTH", password])
            } catch let error as OpsError where error.code == .serverError {
                connection.close()
                throw OpsError(.authentication, "authentication failed (\(error.message))", endpoint: address.description)
            }
        }
        if let database = address.database, database != 0 {
            _ = try await connection.send(["SELECT", String(database)])
        }
        return connection
    }

    private static func openBlocking(
        _ address: RedisAddress, timeout: Duration, pool: NIOThreadPool, onCancel: BlockingCallCancellation
    ) throws -> RedisConnection {
        var tv = timeval(seconds: timeout)
        let context: UnsafeMutablePointer<redisContext>?
        switch address.location {
        case .tcp(let host, let port): context = redisConnectWithTimeout(host, Int32(port), tv)
        case .unixSocket(let path): context = redisConnectUnixWithTimeout(path, tv)
        }
        guard let context else {
            throw OpsError(.io, "could not allocate a Redis context", endpoint: address.description)
        }
        if context.pointee.err != 0 {
            let error = RedisConnection.error(of: context, address: address, timeout: timeout)
            redisFree(context)
            throw error
        }
        // Bounds every later read and write, so a server that accepts and never answers cannot hang us.
        redisSetTimeout(context, tv)
        return RedisConnection(address: address, context: context, pool: pool, timeout: timeout, onCancel: onCancel)
    }

    /// Sends one command and waits for its reply; an error reply throws.
    public func send(_ arguments: [String]) async throws -> RESPValue {
        let reply = try await pipeline([arguments])[0]
        if case .error(let message) = reply {
            throw OpsError(.serverError, "\(arguments.first ?? "command") failed: \(message)", endpoint: address.description)
        }
        return reply
    }

    /// Sends all commands in one write, then reads their replies in order.
    /// Error replies come back as `.error` values, in place.
    public func pipeline(_ commands: [[String]]) async throws -> [RESPValue] {
        try await pool.run(onCancel) { try self.pipelineBlocking(commands.map { $0.map { Array($0.utf8) } }) }
    }

    /// Binary-safe variant of `pipeline`.
    public func pipeline(bytes commands: [[[UInt8]]]) async throws -> [RESPValue] {
        try await pool.run(onCancel) { try self.pipelineBlocking(commands) }
    }

    private func pipelineBlocking(_ commands: [[[UInt8]]]) throws -> [RESPValue] {
        try lock.withLock {
            guard !closed else { throw OpsError(.io, "connection is closed", endpoint: address.description) }
            guard context.pointee.err == 0 else {
                throw RedisConnection.error(of: context, address: address, timeout: timeout)
            }
            for command in commands {
                try append(command)
            }
            var replies: [RESPValue] = []
            replies.reserveCapacity(commands.count)
            for _ in commands {
                var raw: UnsafeMutableRawPointer?
                guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                    throw RedisConnection.error(of: context, address: address, timeout: timeout)
                }
                let reply = raw.assumingMemoryBound(to: redisReply.self)
                replies.append(RedisConnection.decode(reply))
                freeReplyObject(raw)
            }
            return replies
        }
    }

    private func append(_ command: [[UInt8]]) throws {
        // hiredis copies the arguments into its output buffer before returning.
        let copies = command.map { bytes -> UnsafeMutablePointer<CChar> in
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) { chars in
                    if let base = chars.baseAddress { buffer.initialize(from: base, count: bytes.count) }
                }
            }
            return buffer
        }
        defer { copies.forEach { $0.deallocate() } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        var lengths = command.map { $0.count }
        let status = redisAppendCommandArgv(context, Int32(command.count), &pointers, &lengths)
        guard status == REDIS_OK else {
            throw RedisConnection.error(of: context, address: address, timeout: timeout)
        }
    }

    /// Closes the connection; later calls fail with "connection is closed".
    public func close() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            redisFree(context)
        }
    }

    static func decode(_ reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
        let r = reply.pointee
        func text() -> [UInt8] {
            guard let str = r.str, r.len > 0 else { return [] }
            return str.withMemoryRebound(to: UInt8.self, capacity: r.len) { Array(UnsafeBufferPointer(start: $0, count: r.len)) }
        }
        switch r.type {
        case REDIS_REPLY_STATUS: return .status(String(decoding: text(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: text(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int(r.integer))
        case REDIS_REPLY_STRING: return .bulk(text())
        case REDIS_REPLY_ARRAY:
            var items: [RESPValue] = []
            for i in 0..<r.elements {
                if let element = r.element[i] { items.append(decode(element)) }
            }
            return .array(items)
        default: return .null
        }
    }

    private static func error(of context: UnsafeMutablePointer<redisContext>, address: RedisAddress, timeout: Duration) -> OpsError {
        let err = context.pointee.err
        let savedErrno = errno
        let text = withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let endpoint = address.description
        if err == REDIS_ERR_IO || err == REDIS_ERR_OTHER {
            switch savedErrno {
            case ECONNREFUSED: return OpsError(.connectionRefused, "connection refused", endpoint: endpoint)
            case EAGAIN, ETIMEDOUT, EINPROGRESS: return .timedOut(after: timeout, endpoint: endpoint)
            default: break
            }
            let lower = text.lowercased()
            if lower.contains("refused") { return OpsError(.connectionRefused, "connection refused", endpoint: endpoint) }
            if lower.contains("timed out") || lower.contains("temporarily unavailable") {
                return .timedOut(after: timeout, endpoint: endpoint)
            }
            if lower.contains("name or service") || lower.contains("not known") {
                return OpsError(.unreachable, "cannot resolve host (\(text))", endpoint: endpoint)
            }
        }
        if err == REDIS_ERR_EOF {
            return OpsError(.io, "server closed the connection", endpoint: endpoint)
        }
        if err == REDIS_ERR_PROTOCOL {
            return OpsError(.protocolError, "protocol error: \(text)", endpoint: endpoint)
        }
        return OpsError(.io, text.isEmpty ? "I/O error" : text.lowercased(), endpoint: endpoint)
    }
}

extension timeval {
    init(seconds duration: Duration) {
        let micros = max(duration.milliseconds, 1) * 1000
        self.init(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
    }
}
