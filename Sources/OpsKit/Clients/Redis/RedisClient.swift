import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An asynchronous, pipelining Redis client on SwiftNIO, for servers: commands from any thread
/// go out on one connection in order, and nothing blocks an event loop. hiredis' reader parses
/// the replies (`RESPReplyDecoder`).
///
/// A lost connection is re-established in the background; meanwhile commands fail at once with
/// an error naming the endpoint, so callers can degrade rather than queue without bound. A command
/// unanswered after `commandTimeout` (a stopped or partitioned server) drops the connection.
///
/// State sits behind `lock`; the channel does its I/O on its own event loop, hence
/// `@unchecked Sendable`.
public final class RedisClient: @unchecked Sendable {
    public struct Options: Sendable {
        var connectTimeout: Duration = .seconds(2)
        public var commandTimeout: Duration = .seconds(2)
        public var reconnectDelay: (minimum: Duration, maximum: Duration) = (.milliseconds(50), .seconds(2))
        /// Given to each connection with CLIENT SETNAME (no spaces), so others can see in CLIENT
        /// LIST whether this client is connected.
        public var clientName: String?
        public init() {}
    }

    public enum State: String, Sendable {
        case disconnected, connecting, connected, closed
    }

    public let address: RedisAddress
    public let options: Options
    /// The loop the connection and its timers run on.
    public let eventLoop: EventLoop
    private let logger: Logger

    private let lock = NIOLock()
    private var state = State.disconnected
    private var channel: Channel?
    private var backoff: ReconnectBackoff
    private var lastError: String?
    private var observers: [@Sendable (State) -> Void] = []

    public init(address: RedisAddress, options: Options = Options(), group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "whisper.redis")) {
        self.address = address
        self.options = options
        self.backoff = ReconnectBackoff(minimum: options.reconnectDelay.minimum, maximum: options.reconnectDelay.maximum)
        self.eventLoop = group.next()
        self.logger = logger
    }

    var currentState: State { lock.withLock { state } }
    public var isConnected: Bool { currentState == .connected }
    public var lastErrorDescription: String? { lock.withLock { lastError } }

    /// Calls `observer` on every change between connected and disconnected.
    public func onStateChange(_ observer: @escaping @Sendable (State) -> Void) {
        lock.withLock { observers.append(observer) }
    }

    // MARK: Connection

    /// Connects once and throws if that fails; after a success, a lost connection is re-established
    /// in the background.
    public func connect() async throws {
        lock.withLock { state = .connecting }
        do {
            try await establish().get()
        } catch {
            lock.withLock { if state != .closed { state = .disconnected } }
            throw error
        }
    }

    /// Connects in the background and keeps trying until it succeeds or `close()` is called.
    public func start() {
        lock.withLock { state = .connecting }
        establish().whenFailure { [self] error in
            logger.warning("redis.connect_failed", metadata: ["endpoint": "\(address)", "error": "\(error)"])
            scheduleReconnect()
        }
    }

    public func close() async {
        let channel: Channel? = lock.withLock {
            state = .closed
            defer { self.channel = nil }
            return self.channel
        }
        // Closing a channel that is already closed is the only failure here.
        try? await channel?.close()
    }

    private func establish() -> EventLoopFuture<Void> {
        let endpoint = address.description
        let timeout = options.connectTimeout
        let commandTimeout = options.commandTimeout
        let bootstrap: ClientBootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout.timeAmount)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPReplyDecoder()))
                    try channel.pipeline.syncOperations.addHandler(RedisCommandHandler(endpoint: endpoint, commandTimeout: commandTimeout))
                }
            }
        let connecting: EventLoopFuture<Channel>
        switch address.location {
        case .tcp(let host, let port): connecting = bootstrap.connect(host: host, port: port)
        case .unixSocket(let path): connecting = bootstrap.connect(unixDomainSocketPath: path)
        }
        return connecting.flatMapErrorThrowing { error in
            throw NATSClient.describe(error, endpoint: endpoint, timeout: timeout)
        }.flatMap { [self] channel in
            handshake(on: channel).map { channel }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }.map { [self] channel in
            connected(channel)
        }.flatMapError { [self] error in
            lock.withLock { lastError = "\(error)" }
            return eventLoop.makeFailedFuture(error)
        }
    }

    /// AUTH, SELECT and a PING, before anyone else may use the connection: a stopped server
    /// still accepts TCP connections, so only an answer proves it is there.
    private func handshake(on channel: Channel) -> EventLoopFuture<Void> {
        var commands: [[String]] = []
        if let password = address.password { commands.append(["AUTH", password]) }
        if let database = address.database, database != 0 { commands.append(["SELECT", String(database)]) }
        if let name = options.clientName { commands.append(["CLIENT", "SETNAME", name]) }
        commands.append(["PING"])
        let endpoint = address.description
        let sent = commands
        return Self.send(sent, on: channel).flatMapThrowing { replies in
            // A name refused (an ACL without CLIENT) costs only the name.
            for (command, reply) in zip(sent, replies) where command.first != "CLIENT" {
                if case .error(let message) = reply {
                    let code: OpsError.Code = message.contains("WRONGPASS") || message.contains("NOAUTH") || message.contains("invalid password") ? .authentication : .serverError
                    throw OpsError(code, code == .authentication ? "authentication failed" : message, endpoint: endpoint)
                }
            }
        }
    }

    private func connected(_ channel: Channel) {
        let accepted: Bool = lock.withLock {
            // Only one connection at a time: a late handshake after a newer one lost the race.
            guard state != .closed, self.channel == nil else { return false }
            self.channel = channel
            state = .connected
            backoff.reset()
            lastError = nil
            return true
        }
        guard accepted else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [self] _ in connectionLost(channel) }
        logger.info("redis.connected", metadata: ["endpoint": "\(address)"])
        notify(.connected)
    }

    private func connectionLost(_ channel: Channel) {
        let reconnect: Bool = lock.withLock {
            guard self.channel === channel else { return false }
            self.channel = nil
            if lastError == nil { lastError = "connection lost" }
            guard state != .closed else { return false }
            state = .disconnected
            return true
        }
        guard reconnect else { return }
        logger.warning("redis.disconnected", metadata: ["endpoint": "\(address)"])
        notify(.disconnected)
        scheduleReconnect()
    }

    private func scheduleReconnect() {
        let delay: Duration? = lock.withLock {
            guard state != .closed, state != .connected else { return nil }
            state = .disconnected
            return backoff.next()
        }
        guard let delay else { return }
        eventLoop.scheduleTask(in: delay.timeAmount) { [self] in
            let go: Bool = lock.withLock {
                guard state == .disconnected else { return false }
                state = .connecting
                return true
            }
            if go { establish().whenFailure { [self] _ in scheduleReconnect() } }
        }
    }

    private func notify(_ state: State) {
        for observer in lock.withLock({ observers }) { observer(state) }
    }

    // MARK: Commands

    /// Sends commands in one write and completes with their replies in order; error replies are
    /// values (`.error`), not failures. Fails at once when not connected. Requests made in the
    /// same event-loop tick leave in one flush (`RedisCommandHandler`).
    public func pipeline(_ commands: [[String]]) -> EventLoopFuture<[RESPValue]> {
        let channel: Channel? = lock.withLock { state == .connected ? self.channel : nil }
        guard let channel else {
            let reason = lastErrorDescription.map { " (\($0))" } ?? ""
            return eventLoop.makeFailedFuture(OpsError(.io, "Redis is unavailable\(reason)", endpoint: address.description))
        }
        return Self.send(commands, on: channel)
    }

    /// Writes a request; if the write fails (the channel closed on the way), so does the request,
    /// which otherwise nobody would ever complete.
    private static func send(_ commands: [[String]], on channel: Channel) -> EventLoopFuture<[RESPValue]> {
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { promise.fail($0) }
        channel.writeAndFlush(RedisRequest(commands: commands, promise: promise), promise: written)
        return promise.futureResult
    }

    public func send(_ arguments: [String]) -> EventLoopFuture<RESPValue> {
        pipeline([arguments]).map { $0[0] }
    }

    /// Sends one command; an error reply throws, naming the endpoint.
    public func command(_ arguments: String...) async throws -> RESPValue {
        try await command(arguments)
    }

    public func command(_ arguments: [String]) async throws -> RESPValue {
        let reply = try await send(arguments).get()
        if case .error(let message) = reply { throw OpsError(.serverError, message, endpoint: address.description) }
        return reply
    }

    /// Runs a Lua script by its SHA-1, loading it on first use or after a server restart.
    public func run(_ script: RedisScript, keys: [String], arguments: [String]) -> EventLoopFuture<RESPValue> {
        let tail = [String(keys.count)] + keys + arguments
        return send(["EVALSHA", script.sha1] + tail).flatMap { [self] reply in
            if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
                return send(["EVAL", script.source] + tail)
            }
            return eventLoop.makeSucceededFuture(reply)
        }
    }

    public func run(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RESPValue {
        let reply = try await run(script, keys: keys, arguments: arguments).get()
        if case .error(let message) = reply {
            throw OpsError(.serverError, "script \(script.name): \(message)", endpoint: address.description)
        }
        return reply
    }
}

/// A Lua script and the SHA-1 Redis knows it by.
public struct RedisScript: Sendable {
    public let name: String
    public let source: String
    let sha1: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
        self.sha1 = Digest.sha1Hex(source)
    }
}

struct RedisRequest {
    var commands: [[String]]
    var promise: EventLoopPromise<[RESPValue]>
}

/// Writes requests and matches replies to them in order (Redis answers in order); fails
/// everything in flight when the connection drops or a reply is overdue.
///
/// Flushes are put off to the end of the event loop's current tick, so the requests of every
/// message relayed meanwhile go out in one syscall and Redis reads them, and answers them, in one
/// go: under load that is most of the cost of a command on both sides.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct InFlight {
        var remaining: Int
        var replies: [RESPValue]
        var promise: EventLoopPromise<[RESPValue]>
        var sentAt: NIODeadline
    }

    private let endpoint: String
    private let commandTimeout: Duration
    private var inFlight = CircularBuffer<InFlight>()
    private var watchdog: RepeatedTask?
    private var flushPending = false

    init(endpoint: String, commandTimeout: Duration) {
        self.endpoint = endpoint
        self.commandTimeout = commandTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let limit = commandTimeout.timeAmount
        let interval = TimeAmount.milliseconds(min(250, max(10, limit.nanoseconds / 4_000_000)))
        let channel = context.channel
        watchdog = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            guard let self, let oldest = self.inFlight.first, .now() - oldest.sentAt > limit else { return }
            self.failAll(OpsError.timedOut(after: self.commandTimeout, endpoint: self.endpoint))
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        watchdog?.cancel()
        failAll(OpsError(.io, "connection closed", endpoint: endpoint))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard !request.commands.isEmpty else {
            request.promise.succeed([])
            promise?.succeed()
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 64 * request.commands.count)
        for command in request.commands { RESPCommandEncoder.encode(command, into: &buffer) }
        inFlight.append(InFlight(remaining: request.commands.count, replies: [], promise: request.promise, sentAt: .now()))
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = loopBound.value
            handler.flushPending = false
            context.flush()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        guard !inFlight.isEmpty else { return }
        inFlight[inFlight.startIndex].replies.append(reply)
        inFlight[inFlight.startIndex].remaining -= 1
        if inFlight[inFlight.startIndex].remaining == 0 {
            let done = inFlight.removeFirst()
            done.promise.succeed(done.replies)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(OpsError(.io, "server closed the connection", endpoint: endpoint))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(OpsError(.protocolError, "\(error)", endpoint: endpoint))
        context.close(promise: nil)
    }

    private func failAll(_ error: Error) {
        while let request = inFlight.popFirst() { request.promise.fail(error) }
    }
}
