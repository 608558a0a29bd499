import NIOCore
import NIOWebSocket

/// Speaks the chat protocol on one upgraded connection: a handler on the channel, no task per
/// connection, so an idle user costs only NIO's channel and this object.
final class WebSocketChatHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Frames a client may send before its welcome (while its session is being set up).
    static let maxEarlyFrames = 32

    private let hub: ChatHub
    private let heartbeat: HeartbeatRegistry
    private let ip: String
    private let resume: ResumeRequest?
    private var connection: ChatConnection?
    private var limiter: RateLimiter
    private(set) var lastSeen = NIODeadline.now()
    private var closeReason = "client_closed"
    /// Whether the session may be resumed after this connection ends: not after the client said
    /// goodbye or was closed for breaking the rules.
    private var resumable = true
    private var ready = false
    private var early: [WebSocketFrame] = []
    private var slowConsumer: Scheduled<Void>?

    init(hub: ChatHub, heartbeat: HeartbeatRegistry, ip: String, resume: ResumeRequest?) {
        self.hub = hub
        self.heartbeat = heartbeat
        self.ip = ip
        self.resume = resume
        limiter = RateLimiter(maxMessages: hub.configuration.maxMessagesPer10s, maxBytes: hub.configuration.maxBytesPer10s)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let connection = ChatConnection(id: SessionID.make(), ip: ip, ipHash: hub.hasher.hash(ip), channel: context.channel)
        self.connection = connection
        heartbeat.add(self, channel: context.channel)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        hub.open(connection, resume: resume).whenComplete { result in
            let (handler, context) = loopBound.value
            if case .success(let counters?) = result { handler.limiter.restore(counters) }
            handler.ready = true
            let frames = handler.early
            handler.early = []
            for frame in frames { handler.process(frame, context: context) }
        }
    }

    /// A client that stops reading fills our buffers: past WRITE_TIMEOUT unwritable, it goes.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            slowConsumer?.cancel()
            slowConsumer = nil
        } else if slowConsumer == nil {
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let channel = context.channel
            slowConsumer = context.eventLoop.scheduleTask(in: hub.configuration.writeTimeout.timeAmount) {
                guard !channel.isWritable else { return }
                loopBound.value.closeReason = "write_timeout"
                channel.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        slowConsumer?.cancel()
        heartbeat.remove(self)
        if let connection { hub.disconnect(connection, reason: closeReason, resumable: resumable, rate: limiter.counters()) }
        connection = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        lastSeen = .now()
        guard ready else {
            early.append(frame)
            if early.count > Self.maxEarlyFrames { close(code: .policyViolation, reason: "too_early", resumable: false) }
            return
        }
        process(frame, context: context)
    }

    private func process(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        switch frame.opcode {
        case .text:
            receiveText(frame)
        case .binary:
            close(code: .unacceptableData, reason: "binary_frame", resumable: false)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readWebSocketErrorCode() ?? .normalClosure
            guard let connection else { return }
            if connection.closeSent.load(ordering: .relaxed) {
                // The client answered our close: the handshake is complete.
                context.close(promise: nil)
                return
            }
            closeReason = "client_closed"
            // A deliberate goodbye (normal closure, or the page going away) ends the session.
            resumable = !(code == .normalClosure || code == .goingAway)
            connection.close(code: code)
            context.close(promise: nil)
        default:
            break
        }
    }

    private func receiveText(_ frame: WebSocketFrame) {
        guard let connection else { return }
        let receivedAt = ContinuousClock.now
        var data = frame.unmaskedData
        let size = data.readableBytes
        guard let text = data.readString(length: size), text.utf8.elementsEqual(frame.unmaskedData.readableBytesView) else {
            close(code: .dataInconsistentWithMessage, reason: "invalid_utf8", resumable: false)
            return
        }
        switch limiter.record(bytes: size, at: receivedAt) {
        case .allow: break
        case .limit:
            connection.send(.error(code: "rate_limited", message: "slow down: at most \(limiter.maxMessages) messages per 10 s"))
            return
        case .close:
            close(code: .policyViolation, reason: "rate_limited", resumable: false)
            return
        }
        do {
            hub.handle(try ClientMessage.decode(text), from: connection)
        } catch {
            connection.send(.error(code: error.code, message: error.message))
        }
    }

    /// Closes with `code`, counting the disconnection under `reason`.
    func close(code: WebSocketErrorCode, reason: String, resumable: Bool) {
        closeReason = reason
        self.resumable = resumable
        connection?.close(code: code)
    }

    /// The event loop's heartbeat asks each connection in turn.
    func heartbeatTick(now: NIODeadline, interval: TimeAmount, grace: TimeAmount, channel: Channel) {
        if now - lastSeen >= interval + grace {
            // Silent, not gone for good: the client may come back and resume.
            close(code: .goingAway, reason: "heartbeat_timeout", resumable: true)
            channel.close(promise: nil)
        } else if now - lastSeen >= interval {
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .ping, data: channel.allocator.buffer(capacity: 0)), promise: nil)
        }
    }
}
