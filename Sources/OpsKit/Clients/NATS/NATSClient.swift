import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A core NATS client over SwiftNIO: CONNECT with token or user/password, PUB/SUB/UNSUB, PING/PONG
/// keep-alive, and reconnection with backoff that resubscribes everything. Given several servers
/// (a cluster), it connects to one and, when that one is lost, to the next; the servers a node
/// advertises in its INFO (`connect_urls`) join the list. While disconnected, publishes wait in a
/// bounded buffer and go out, in order, once the connection is back.
///
/// All mutable state sits behind `lock`; the channel does its own I/O on its event loop, hence
/// `@unchecked Sendable`. Subscription handlers run on that event loop.
public final class NATSClient: @unchecked Sendable {
    public struct Options: Sendable {
        /// Sent in CONNECT; shows up in the server's /connz.
        public var name = "whisper"
        /// Whether this connection receives what it publishes itself.
        public var echo = true
        var connectTimeout: Duration = .seconds(2)
        /// Reconnect delays grow from `minimum` to `maximum`, with jitter.
        public var reconnectDelay: (minimum: Duration, maximum: Duration) = (.milliseconds(50), .seconds(2))
        /// Bytes of publishes kept while disconnected; beyond that `publish` throws.
        public var pendingLimit = 8 * 1024 * 1024
        /// A keep-alive PING goes out this often; `maxOutstandingPings` unanswered ones mean the
        /// server is gone even if TCP has not noticed (a stopped or partitioned server).
        public var pingInterval: Duration = .seconds(2)
        var maxOutstandingPings = 2
        /// Add the cluster's other nodes from INFO's connect_urls to the servers tried.
        public var discoverServers = true

        public init() {}
    }

    public enum State: String, Sendable {
        case disconnected, connecting, connected, closed
    }

    /// A subscription's handle; pass it to `unsubscribe`.
    public struct Subscription: Sendable, Hashable {
        public let sid: Int
        public let subject: String
    }

    private struct SubscriptionEntry {
        var subject: String
        var queue: String?
        var handler: @Sendable (NATSMessage) -> Void
    }

    private enum PongWaiter {
        case keepAlive
        case flush(EventLoopPromise<Void>)
    }

    /// The first server given: its credentials are used with every server.
    public let address: NATSAddress
    public let options: Options
    /// The loop the connection and its timers run on.
    public let eventLoop: EventLoop
    private let logger: Logger

    private let lock = NIOLock()
    private var state = State.disconnected
    private var channel: Channel?
    private var subscriptions: [Int: SubscriptionEntry] = [:]
    private var nextSID = 1
    private var pending: ByteBuffer = ByteBuffer()
    /// Bytes for the current channel, in the order they were sent, written from its event loop
    /// (`flushOutbound`): the channel is never written under `lock`, because a write on the loop
    /// can run the pipeline at once (a failed write reads the socket to learn why) and so
    /// re-enter this client, which would take `lock` twice.
    private var outbound = ByteBuffer()
    private var flushScheduled = false
    /// Counts connections, so a flush scheduled for an earlier one does nothing.
    private var generation = 0
    private var serverMaxPayload = 1024 * 1024
    private var pongWaiters: [PongWaiter] = []
    private var backoff: ReconnectBackoff
    private var keepAlive: RepeatedTask?
    private var stateObservers: [@Sendable (State) -> Void] = []
    private var lastError: String?
    /// The servers tried in turn (given, then discovered), and which one is current.
    private var servers: [NATSAddress]
    private var cursor = 0

    public convenience init(address: NATSAddress, options: Options = Options(), group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "whisper.nats")) {
        self.init(servers: [address], options: options, group: group, logger: logger)
    }

    /// - Parameter servers: at least one; NATS_URL's comma-separated list.
    public init(servers: [NATSAddress], options: Options = Options(), group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "whisper.nats")) {
        precondition(!servers.isEmpty, "a NATS client needs a server")
        self.address = servers[0]
        self.servers = servers
        self.options = options
        self.backoff = ReconnectBackoff(minimum: options.reconnectDelay.minimum, maximum: options.reconnectDelay.maximum)
        self.eventLoop = group.next()
        self.logger = logger
    }

    // MARK: Connection

    var currentState: State { lock.withLock { state } }
    public var isConnected: Bool { currentState == .connected }
    /// Why the last connection attempt or connection failed, for /health.
    public var lastErrorDescription: String? { lock.withLock { lastError } }
    /// The server connected to, or the one tried next.
    public var currentServer: NATSAddress { lock.withLock { servers[cursor] } }
    /// Every server this client may connect to: those given, then those the cluster advertised.
    public var knownServers: [NATSAddress] { lock.withLock { servers } }
    /// The largest payload the server accepts, from its INFO.
    public var maxPayload: Int { lock.withLock { serverMaxPayload } }

    /// Calls `observer` on every state change, on the client's event loop.
    public func onStateChange(_ observer: @escaping @Sendable (State) -> Void) {
        lock.withLock { stateObservers.append(observer) }
    }

    /// Connects once and throws if that fails; after a success, a lost connection is re-established
    /// in the background.
    public func connect() async throws {
        lock.withLock { state = .connecting }
        let count = lock.withLock { servers.count }
        var failure: Error?
        for _ in 0..<count {
            do {
                try await establish().get()
                return
            } catch {
                failure = error
                lock.withLock { cursor = (cursor + 1) % servers.count }
            }
        }
        setState(.disconnected)
        throw failure!
    }

    /// Connects in the background and keeps trying until it succeeds or `close()` is called:
    /// for servers that must start even when NATS is down.
    public func start() {
        lock.withLock { state = .connecting }
        establish().whenFailure { [self] error in
            logger.warning("nats.connect_failed", metadata: ["endpoint": "\(currentServer)", "error": "\(error)"])
            scheduleReconnect()
        }
    }

    /// Closes the connection and stops reconnecting; pending flushes fail.
    public func close() async {
        let (channel, waiters, task): (Channel?, [PongWaiter], RepeatedTask?) = lock.withLock {
            state = .closed
            defer { self.channel = nil; pongWaiters = []; keepAlive = nil }
            return (self.channel, pongWaiters, keepAlive)
        }
        task?.cancel()
        failFlushes(waiters, OpsError(.io, "connection closed", endpoint: address.description))
        // Closing a channel that is already closed is the only failure here.
        try? await channel?.close()
    }

    private func establish() -> EventLoopFuture<Void> {
        let handshake = eventLoop.makePromise(of: Void.self)
        let timeout = options.connectTimeout.timeAmount
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(NATSOperationDecoder()))
                    try channel.pipeline.syncOperations.addHandler(NATSConnectionHandler(client: self, handshake: handshake))
                }
            }
        let target = lock.withLock { servers[cursor] }
        let endpoint = target.description
        let connectTimeout = options.connectTimeout
        let connecting = bootstrap.connect(host: target.host, port: target.port)
        connecting.whenFailure { error in
            handshake.fail(NATSClient.describe(error, endpoint: endpoint, timeout: connectTimeout))
        }
        // A connection whose handshake failed or came too late is not kept half-open.
        handshake.futureResult.whenFailure { _ in connecting.whenSuccess { $0.close(promise: nil) } }
        let deadline = eventLoop.scheduleTask(in: timeout * 2) {
            handshake.fail(OpsError.timedOut(after: connectTimeout, endpoint: endpoint))
        }
        return handshake.futureResult.always { _ in deadline.cancel() }.flatMapError { [self] error in
            lock.withLock { lastError = "\(error)" }
            return eventLoop.makeFailedFuture(error)
        }
    }

    static func describe(_ error: Error, endpoint: String, timeout: Duration) -> OpsError {
        if let error = error as? OpsError { return error }
        if error is ChannelError, case ChannelError.connectTimeout = error { return .timedOut(after: timeout, endpoint: endpoint) }
        let text = "\(error)"
        if text.contains("refused") { return OpsError(.connectionRefused, "connection refused", endpoint: endpoint) }
        return OpsError(.io, text, endpoint: endpoint)
    }

    /// The CONNECT line for this client's options and credentials.
    func connectLine() -> String {
        var fields: [(String, JSONValue)] = [
            ("verbose", .bool(false)), ("pedantic", .bool(false)), ("echo", .bool(options.echo)),
            ("name", .string(options.name)), ("lang", "swift"), ("version", .string(BuildInfo.version)), ("protocol", .int(1)),
        ]
        switch address.credentials {
        case .none: break
        case .token(let token): fields.append(("auth_token", .string(token)))
        case .userPassword(let user, let password): fields += [("user", .string(user)), ("pass", .string(password))]
        }
        return "CONNECT \(JSONValue.object(fields).serialized())\r\nPING\r\n"
    }

    /// The handshake completed on `channel`: resubscribe, send what waited, start keep-alive.
    func connected(_ channel: Channel, maxPayload: Int?, connectURLs: [String] = []) {
        var buffer = channel.allocator.buffer(capacity: 256)
        let accepted: Bool = lock.withLock {
            // Only one connection at a time: a late handshake after a newer one lost the race.
            guard state != .closed, self.channel == nil else { return false }
            self.channel = channel
            state = .connected
            backoff.reset()
            lastError = nil
            if let maxPayload { serverMaxPayload = maxPayload }
            if options.discoverServers { learnLocked(connectURLs) }
            for (sid, entry) in subscriptions.sorted(by: { $0.key < $1.key }) {
                NATSClientOperation.subscribe(subject: entry.subject, queue: entry.queue, sid: sid, into: &buffer)
            }
            buffer.writeBuffer(&pending)
            pending = ByteBuffer()
            generation += 1
            outbound = ByteBuffer()
            flushScheduled = false
            enqueueLocked(&buffer, on: channel)
            return true
        }
        guard accepted else {
            channel.close(promise: nil)
            return
        }
        startKeepAlive(on: channel)
        logger.info("nats.connected", metadata: ["endpoint": "\(currentServer)"])
        notify(.connected)
    }

    /// Adds the advertised `host:port`s not yet known, with the first server's credentials.
    private func learnLocked(_ urls: [String]) {
        for url in urls {
            guard var learned = try? NATSAddress(parsing: url) else { continue }
            learned.credentials = address.credentials
            if !servers.contains(where: { $0.host == learned.host && $0.port == learned.port }) { servers.append(learned) }
        }
    }

    /// `connect_urls` of an INFO line's JSON.
    public static func connectURLs(inInfo raw: String) -> [String] {
        let json = raw.hasPrefix("INFO") ? String(raw.dropFirst(4)) : raw
        guard let info = try? JSONValue.parse(Array(json.utf8)) else { return [] }
        return info["connect_urls"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// The channel closed: fail what waited on it and reconnect unless closed on purpose.
    func connectionLost(_ channel: Channel, error: Error?) {
        let (wasCurrent, waiters, task, reconnect): (Bool, [PongWaiter], RepeatedTask?, Bool) = lock.withLock {
            guard self.channel === channel else { return (false, [], nil, false) }
            self.channel = nil
            // Bytes not written to a lost connection are lost with it, as those in its socket.
            generation += 1
            outbound = ByteBuffer()
            flushScheduled = false
            let waiters = pongWaiters
            pongWaiters = []
            defer { keepAlive = nil }
            if let error { lastError = "\(error)" } else if lastError == nil { lastError = "connection lost" }
            guard state != .closed else { return (true, waiters, keepAlive, false) }
            state = .disconnected
            return (true, waiters, keepAlive, true)
        }
        guard wasCurrent else { return }
        task?.cancel()
        failFlushes(waiters, OpsError(.io, "connection lost", endpoint: address.description))
        if reconnect {
            logger.warning("nats.disconnected", metadata: ["endpoint": "\(currentServer)", "error": "\(error.map { "\($0)" } ?? "closed")"])
            notify(.disconnected)
            scheduleReconnect()
        }
    }

    private func scheduleReconnect() {
        let delay: Duration? = lock.withLock {
            guard state != .closed, state != .connected else { return nil }
            state = .disconnected
            // The server just lost or refused: the next one, if there are several.
            cursor = (cursor + 1) % servers.count
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

    private func startKeepAlive(on channel: Channel) {
        let interval = options.pingInterval.timeAmount
        let task = channel.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            let stale: Bool = lock.withLock {
                guard self.channel === channel else { return false }
                let outstanding = pongWaiters.count { if case .keepAlive = $0 { true } else { false } }
                if outstanding >= options.maxOutstandingPings { return true }
                pongWaiters.append(.keepAlive)
                var ping = channel.allocator.buffer(staticString: "PING\r\n")
                enqueueLocked(&ping, on: channel)
                return false
            }
            if stale {
                logger.warning("nats.stale_connection", metadata: ["endpoint": "\(address)"])
                lock.withLock { lastError = "no PONG to \(options.maxOutstandingPings) PINGs" }
                channel.close(promise: nil)
            }
        }
        lock.withLock { if self.channel === channel { keepAlive = task } else { task.cancel() } }
    }

    private func notify(_ state: State) {
        let observers = lock.withLock { stateObservers }
        for observer in observers { observer(state) }
    }

    private func setState(_ new: State) {
        lock.withLock { if state != .closed { state = new } }
    }

    // MARK: Publishing and subscribing

    /// Publishes `payload` on `subject`. While disconnected the message waits in the pending buffer.
    /// - Throws: when the payload exceeds the server's max_payload, the subject is invalid, the
    ///   pending buffer is full, or the client is closed.
    public func publish(_ payload: ByteBuffer, to subject: String) throws {
        guard NATSClientOperation.isValidSubject(subject, allowWildcards: false) else {
            throw OpsError(.invalidInput, "invalid subject '\(subject)'", endpoint: address.description)
        }
        try lock.withLock {
            guard payload.readableBytes <= serverMaxPayload else {
                throw OpsError(.invalidInput, "payload of \(payload.readableBytes) bytes exceeds the server's max_payload of \(serverMaxPayload) bytes", endpoint: address.description)
            }
            switch state {
            case .connected:
                guard let channel else { fallthrough }
                var buffer = channel.allocator.buffer(capacity: subject.utf8.count + payload.readableBytes + 24)
                NATSClientOperation.publish(subject: subject, payload: payload, into: &buffer)
                enqueueLocked(&buffer, on: channel)
            case .disconnected, .connecting:
                let size = NATSClientOperation.publishSize(subject: subject, payloadSize: payload.readableBytes)
                guard pending.readableBytes + size <= options.pendingLimit else {
                    throw OpsError(.io, "NATS is unavailable and the outbound buffer (\(options.pendingLimit) bytes) is full", endpoint: address.description)
                }
                NATSClientOperation.publish(subject: subject, payload: payload, into: &pending)
            case .closed:
                throw OpsError(.io, "connection is closed", endpoint: address.description)
            }
        }
    }

    public func publish(_ text: String, to subject: String) throws {
        try publish(ByteBuffer(string: text), to: subject)
    }

    /// Subscribes to `subject` (wildcards allowed); `handler` runs on the client's event loop for
    /// every message. Survives reconnects.
    @discardableResult
    public func subscribe(to subject: String, queue: String? = nil, handler: @escaping @Sendable (NATSMessage) -> Void) throws -> Subscription {
        guard NATSClientOperation.isValidSubject(subject, allowWildcards: true) else {
            throw OpsError(.invalidInput, "invalid subject '\(subject)'", endpoint: address.description)
        }
        return try lock.withLock {
            guard state != .closed else { throw OpsError(.io, "connection is closed", endpoint: address.description) }
            let sid = nextSID
            nextSID += 1
            subscriptions[sid] = SubscriptionEntry(subject: subject, queue: queue, handler: handler)
            if state == .connected, let channel {
                var buffer = channel.allocator.buffer(capacity: subject.utf8.count + 24)
                NATSClientOperation.subscribe(subject: subject, queue: queue, sid: sid, into: &buffer)
                enqueueLocked(&buffer, on: channel)
            }
            return Subscription(sid: sid, subject: subject)
        }
    }

    public func unsubscribe(_ subscription: Subscription) {
        lock.withLock {
            guard subscriptions.removeValue(forKey: subscription.sid) != nil else { return }
            if state == .connected, let channel {
                var buffer = channel.allocator.buffer(capacity: 24)
                NATSClientOperation.unsubscribe(sid: subscription.sid, into: &buffer)
                enqueueLocked(&buffer, on: channel)
            }
        }
    }

    /// Waits until the server has processed everything sent so far (a PING answered by PONG).
    public func flush(timeout: Duration = .seconds(2)) async throws {
        // The promise exists only once it is certain to be completed: by the PONG, the timeout or
        // the connection's loss.
        let promise: EventLoopPromise<Void> = try lock.withLock {
            guard state == .connected, let channel else {
                throw OpsError(.io, "not connected", endpoint: address.description)
            }
            let promise = eventLoop.makePromise(of: Void.self)
            pongWaiters.append(.flush(promise))
            var ping = channel.allocator.buffer(staticString: "PING\r\n")
            enqueueLocked(&ping, on: channel)
            return promise
        }
        let endpoint = address.description
        let deadline = eventLoop.scheduleTask(in: timeout.timeAmount) {
            promise.fail(OpsError.timedOut(after: timeout, endpoint: endpoint))
        }
        defer { deadline.cancel() }
        try await promise.futureResult.get()
    }

    // MARK: Outbound

    /// Under `lock`: `buffer` goes after everything queued for `channel`, and a flush follows on
    /// its event loop.
    private func enqueueLocked(_ buffer: inout ByteBuffer, on channel: Channel) {
        outbound.writeBuffer(&buffer)
        guard !flushScheduled else { return }
        flushScheduled = true
        let scheduledFor = generation
        channel.eventLoop.execute { self.flushOutbound(channel, generation: scheduledFor) }
    }

    /// On the channel's loop: writes what was queued, outside the lock.
    private func flushOutbound(_ channel: Channel, generation scheduledFor: Int) {
        let bytes: ByteBuffer? = lock.withLock {
            guard generation == scheduledFor else { return nil }
            flushScheduled = false
            guard self.channel === channel, outbound.readableBytes > 0 else { return nil }
            defer { outbound = channel.allocator.buffer(capacity: 512) }
            return outbound
        }
        if let bytes { channel.writeAndFlush(bytes, promise: nil) }
    }

    // MARK: Inbound, from the channel handler

    func received(_ operation: NATSServerOperation, on channel: Channel) {
        switch operation {
        case .msg(let sid, let message):
            let handler = lock.withLock { subscriptions[sid]?.handler }
            handler?(message)
        case .ping:
            channel.writeAndFlush(channel.allocator.buffer(staticString: "PONG\r\n"), promise: nil)
        case .pong:
            let waiter: PongWaiter? = lock.withLock { pongWaiters.isEmpty ? nil : pongWaiters.removeFirst() }
            if case .flush(let promise) = waiter { promise.succeed() }
        case .info(let maxPayload, let raw):
            // Sent again when the cluster changes: a node that joined is worth knowing.
            let urls = options.discoverServers ? Self.connectURLs(inInfo: raw) : []
            lock.withLock {
                if let maxPayload { serverMaxPayload = maxPayload }
                learnLocked(urls)
            }
        case .ok:
            break
        case .err(let text):
            logger.error("nats.server_error", metadata: ["endpoint": "\(address)", "error": "\(text)"])
            lock.withLock { lastError = text }
        }
    }

    private func failFlushes(_ waiters: [PongWaiter], _ error: Error) {
        for case .flush(let promise) in waiters { promise.fail(error) }
    }
}

/// Runs the handshake (INFO → CONNECT + PING → PONG), then hands every operation to the client.
final class NATSConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = NATSServerOperation

    private let client: NATSClient
    private let handshake: EventLoopPromise<Void>
    private var handshaking = true
    private var maxPayload: Int?
    private var connectURLs: [String] = []

    init(client: NATSClient, handshake: EventLoopPromise<Void>) {
        self.client = client
        self.handshake = handshake
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let operation = unwrapInboundIn(data)
        guard handshaking else {
            client.received(operation, on: context.channel)
            return
        }
        switch operation {
        case .info(let maxPayload, let raw):
            self.maxPayload = maxPayload
            connectURLs = NATSClient.connectURLs(inInfo: raw)
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: client.connectLine())), promise: nil)
        case .pong:
            handshaking = false
            client.connected(context.channel, maxPayload: maxPayload, connectURLs: connectURLs)
            handshake.succeed()
        case .err(let text):
            let code: OpsError.Code = text.lowercased().contains("authorization") ? .authentication : .serverError
            handshake.fail(OpsError(code, text.lowercased(), endpoint: client.address.description))
            context.close(promise: nil)
        case .ping:
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(staticString: "PONG\r\n")), promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if handshaking {
            handshake.fail(OpsError(.io, "server closed the connection during the handshake", endpoint: client.address.description))
        } else {
            lost(context.channel, error: nil)
        }
        context.fireChannelInactive()
    }

    /// The client writes while holding its lock, and a failed write can close the channel right
    /// there: the loss is handled once that call has returned, never inside it.
    private func lost(_ channel: Channel, error: Error?) {
        let client = self.client
        channel.eventLoop.execute { client.connectionLost(channel, error: error) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if handshaking {
            handshake.fail(OpsError(.protocolError, "\(error)", endpoint: client.address.description))
        } else {
            lost(context.channel, error: error)
        }
        context.close(promise: nil)
    }
}
