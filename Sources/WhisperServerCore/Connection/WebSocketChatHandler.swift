import Foundation
import NIOCore
import OpsKit
import Synchronization

/// One client connection and the session on it: the only handler left on the channel once the
/// HTTP codec is gone. It reads frames with `WebSocketFrameParser` (every RFC 6455 rule checked),
/// turns them into events for its `SessionMachine`, and performs the machine's actions
/// (`+Session`) and their backend work (`+Jobs`). Everything here runs on the channel's event
/// loop; other threads reach it through `post`. No task per connection: an idle user costs this
/// object and NIO's channel.
final class WebSocketChatHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Messages a client may send before its welcome (while its session is being set up).
    static let maxEarlyMessages = 32
    /// The largest message accepted, over all its fragments (close 1009 beyond).
    static let maxMessageSize = 4096
    /// How long a client has to answer our close frame before the TCP connection is cut.
    static let closeGrace: TimeAmount = .seconds(1)

    let hub: ChatHub
    let heartbeat: HeartbeatRegistry
    /// The client's address: only in memory, to count connections per address; stored anywhere
    /// only as `hub.hasher.hash(ip)`. Immutable, so other threads may read it.
    let ip: String
    let resume: ResumeRequest?
    /// New for every connection, also a resumed one.
    let connectionID = SessionID.make()
    let eventLoop: EventLoop
    /// Set in `handlerAdded`.
    var channel: Channel?
    /// Our place in the pipeline, for writes that start right at our handler.
    private var context: ChannelHandlerContext?
    /// Set once the connection is gone: other sessions that kept a reference to this one look
    /// it up again (it may have resumed on a newer connection).
    let isClosed = Atomic<Bool>(false)
    /// The partner's connection when it is on this instance, remembered after the first message
    /// so the relay does not ask the hub every time.
    var partnerHandler: WebSocketChatHandler?
    /// When our writes to the partner's resume buffer also trim it and renew its expiry.
    var bufferUpkeep = BufferUpkeepSchedule()

    var machine = SessionMachine()
    var limiter: RateLimiter
    private var parser = WebSocketFrameParser(role: .server, maxMessageSize: WebSocketChatHandler.maxMessageSize)
    private(set) var lastSeen = NIODeadline.now()
    var closeReason = "client_closed"
    /// Whether the session may be resumed after this connection ends: not after the client said
    /// goodbye or was closed for breaking the rules.
    var resumable = true
    /// Taken over by a newer connection of the same session: ends without telling anyone.
    var quiet = false
    /// Our close frame is on its way: nothing more is sent, and the client's answer ends it.
    var closeSent = false
    private var early: [ByteBuffer] = []
    var timers = Timers()
    /// An event is being applied: events for this session posted meanwhile wait their turn.
    var applying = false

    struct Timers {
        var slowConsumer: Scheduled<Void>?
        var fallback: RepeatedTask?
        var matchTimeout: Scheduled<Void>?
        var partnerExpiry: Scheduled<Void>?
        var fetch: Scheduled<Void>?

        mutating func cancelAll() {
            slowConsumer?.cancel()
            fallback?.cancel()
            matchTimeout?.cancel()
            partnerExpiry?.cancel()
            fetch?.cancel()
            self = Timers()
        }
    }

    init(hub: ChatHub, heartbeat: HeartbeatRegistry, ip: String, resume: ResumeRequest?, eventLoop: EventLoop) {
        self.hub = hub
        self.heartbeat = heartbeat
        self.ip = ip
        self.resume = resume
        self.eventLoop = eventLoop
        limiter = RateLimiter(maxMessages: hub.configuration.maxMessagesPer10s, maxBytes: hub.configuration.maxBytesPer10s)
    }

    var isOpen: Bool { machine.phase == .open }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        channel = context.channel
        self.context = context
        heartbeat.add(self, channel: context.channel)
        hub.connectionOpened(ip: ip)
        startSession()
    }

    /// The session is open: frames that came early are handled now, in order.
    func handleEarlyMessages() {
        let texts = early
        early = []
        for text in texts { receiveText(text) }
    }

    /// A client that stops reading fills our buffers: past WRITE_TIMEOUT unwritable, it goes.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            timers.slowConsumer?.cancel()
            timers.slowConsumer = nil
        } else if timers.slowConsumer == nil {
            let channel = context.channel
            timers.slowConsumer = eventLoop.scheduleTask(in: hub.configuration.writeTimeout.timeAmount) { [self] in
                guard !channel.isWritable else { return }
                closeReason = "write_timeout"
                channel.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed.store(true, ordering: .releasing)
        partnerHandler = nil
        timers.cancelAll()
        heartbeat.remove(self)
        early = []
        hub.connectionClosed(ip: ip, reason: closeReason)
        apply(.closed(resumable: resumable && !quiet))
        context.fireChannelInactive()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastSeen = .now()
        parser.append(unwrapInboundIn(data))
        do {
            while let message = try parser.next() {
                receive(message, context: context)
            }
        } catch {
            fail(error)
        }
    }

    private func receive(_ message: WebSocketFrameParser.Message, context: ChannelHandlerContext) {
        switch message {
        case .text(let text):
            guard machine.phase != .opening else {
                early.append(text)
                if early.count > Self.maxEarlyMessages { close(code: CloseCode.policyViolation, reason: "too_early", resumable: false) }
                return
            }
            receiveText(text)
        case .binary:
            close(code: CloseCode.unsupportedData, reason: "binary_frame", resumable: false)
        case .ping(let payload):
            // Nothing may follow our close frame, not even a pong.
            guard !closeSent else { return }
            context.writeAndFlush(wrapOutboundOut(.webSocketFrame(opcode: 0xA, payload: payload, allocator: context.channel.allocator)), promise: nil)
        case .pong:
            break  // a sign of life, already noted in lastSeen
        case .close(let code, _):
            if closeSent {
                // The client answered our close: the handshake is complete.
                context.close(promise: nil)
                return
            }
            closeReason = "client_closed"
            // A deliberate goodbye (normal closure, the page going away, or no code) ends the session.
            resumable = !(code == nil || code == CloseCode.normal || code == CloseCode.goingAway)
            // Echo the code, as RFC 6455 §5.5.1 suggests, and hang up once it is written.
            fail(code: code ?? CloseCode.normal)
        }
    }

    /// A frame broke RFC 6455: close with the code it calls for (1002, 1007 or 1009), at once.
    private func fail(_ violation: WebSocketFrameParser.Violation) {
        switch violation.code {
        case CloseCode.invalidPayload: closeReason = "invalid_utf8"
        case CloseCode.tooBig: closeReason = "message_too_big"
        default: closeReason = "protocol_error"
        }
        resumable = false
        fail(code: violation.code)
    }

    private func receiveText(_ text: ByteBuffer) {
        switch limiter.record(bytes: text.readableBytes, at: .now) {
        case .allow: break
        case .limit:
            send(.error(code: "rate_limited", message: "slow down: at most \(limiter.maxMessages) messages per 10 s"))
            return
        case .close:
            close(code: CloseCode.policyViolation, reason: "rate_limited", resumable: false)
            return
        }
        let message: ClientMessage
        do {
            message = try ClientMessage.decode(text)
        } catch {
            send(.error(code: error.code, message: error.message))
            return
        }
        if case .message(let text, _) = message {
            hub.metrics.messagesReceived.add(1, ordering: .relaxed)
            if hub.moderation.blocks(text) {
                hub.metrics.messagesBlocked.add(1, ordering: .relaxed)
                send(.blocked)
                return
            }
        }
        apply(.client(message, nowMicros: WallClock.micros()))
    }

    // MARK: Writing and closing

    /// Writes one text frame, unless our close frame went out already.
    func send(_ message: ServerMessage) {
        guard !closeSent, let context else { return }
        var frame = ByteBuffer.webSocketFrame(allocator: context.channel.allocator, payloadCapacity: 128)
        message.encode(into: &frame)
        frame.prependWebSocketHeader(opcode: 0x1)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    /// Closes with `code`, counting the disconnection under `reason`.
    func close(code: UInt16, reason: String, resumable: Bool) {
        closeReason = reason
        self.resumable = resumable
        close(code: code)
    }

    /// Starts the closing handshake (RFC 6455 §7): our close frame, then the TCP connection closes
    /// when the client's close frame arrives or after `closeGrace`. Frames the client sent before
    /// it saw ours are still read and handled, so a message in flight is not lost.
    func close(code: UInt16) {
        guard !closeSent, let channel else { return }
        closeSent = true
        channel.writeAndFlush(ByteBuffer.webSocketClose(code: code, allocator: channel.allocator)).whenComplete { result in
            guard case .success = result else { return channel.close(promise: nil) }
            channel.eventLoop.scheduleTask(in: Self.closeGrace) { channel.close(promise: nil) }
        }
    }

    /// Fails the connection (RFC 6455 §7.1.7): our close frame with `code`, then the TCP
    /// connection closes at once, reading nothing more from a client that broke the protocol.
    func fail(code: UInt16) {
        guard let channel else { return }
        guard !closeSent else { return channel.close(promise: nil) }
        closeSent = true
        channel.writeAndFlush(ByteBuffer.webSocketClose(code: code, allocator: channel.allocator)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    /// The drain evicts this client: `draining`, then close 1012 (it resumes elsewhere).
    func evict(reconnectInMs: Int) {
        onLoop {
            $0.send(.draining(reconnectInMs: reconnectInMs))
            $0.close(code: CloseCode.serviceRestart)
        }
    }

    /// The event loop's heartbeat asks each connection in turn.
    func heartbeatTick(now: NIODeadline, interval: TimeAmount, grace: TimeAmount, channel: Channel) {
        if now - lastSeen >= interval + grace {
            // Silent, not gone for good: the client may come back and resume.
            close(code: CloseCode.goingAway, reason: "heartbeat_timeout", resumable: true)
            channel.close(promise: nil)
        } else if now - lastSeen >= interval, !closeSent {
            let ping = ByteBuffer.webSocketFrame(opcode: 0x9, payload: ByteBuffer(), allocator: channel.allocator)
            channel.writeAndFlush(ping, promise: nil)
        }
    }

    /// Runs `body` on this connection's event loop.
    func onLoop(_ body: @escaping @Sendable (WebSocketChatHandler) -> Void) {
        if eventLoop.inEventLoop {
            body(self)
        } else {
            eventLoop.execute { body(self) }
        }
    }
}

/// The wall clock in µs: message times travel between instances, so they are not monotonic.
enum WallClock {
    static func micros() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}
