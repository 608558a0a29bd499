import NIOCore
import OpsKit

/// Speaks the chat protocol on one upgraded connection: the only handler left on the channel
/// once the HTTP codec is gone. It reads frames with `WebSocketFrameParser` (every RFC 6455 rule
/// checked), writes them as single buffers, and keeps no task per connection, so an idle user
/// costs only NIO's channel and this object.
final class WebSocketChatHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Messages a client may send before its welcome (while its session is being set up).
    static let maxEarlyMessages = 32
    /// The largest message accepted, over all its fragments (close 1009 beyond).
    static let maxMessageSize = 4096

    private let hub: ChatHub
    private let heartbeat: HeartbeatRegistry
    private let ip: String
    private let resume: ResumeRequest?
    private var connection: ChatConnection?
    private var parser = WebSocketFrameParser(role: .server, maxMessageSize: WebSocketChatHandler.maxMessageSize)
    private var limiter: RateLimiter
    private(set) var lastSeen = NIODeadline.now()
    private var closeReason = "client_closed"
    /// Whether the session may be resumed after this connection ends: not after the client said
    /// goodbye or was closed for breaking the rules.
    private var resumable = true
    private var ready = false
    private var early: [ByteBuffer] = []
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
            let texts = handler.early
            handler.early = []
            for text in texts { handler.receiveText(text) }
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
        early = []
        context.fireChannelInactive()
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
            guard ready else {
                early.append(text)
                if early.count > Self.maxEarlyMessages { close(code: CloseCode.policyViolation, reason: "too_early", resumable: false) }
                return
            }
            receiveText(text)
        case .binary:
            close(code: CloseCode.unsupportedData, reason: "binary_frame", resumable: false)
        case .ping(let payload):
            // Nothing may follow our close frame, not even a pong.
            guard connection?.closeSent.load(ordering: .relaxed) == false else { return }
            context.writeAndFlush(wrapOutboundOut(.webSocketFrame(opcode: 0xA, payload: payload, allocator: context.channel.allocator)), promise: nil)
        case .pong:
            break  // a sign of life, already noted in lastSeen
        case .close(let code, _):
            guard let connection else { return }
            if connection.closeSent.load(ordering: .relaxed) {
                // The client answered our close: the handshake is complete.
                context.close(promise: nil)
                return
            }
            closeReason = "client_closed"
            // A deliberate goodbye (normal closure, or the page going away, or no code) ends the session.
            resumable = !(code == nil || code == CloseCode.normal || code == CloseCode.goingAway)
            // Echo the code, as RFC 6455 §5.5.1 suggests, and hang up once it is written.
            connection.fail(code: code ?? CloseCode.normal)
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
        connection?.fail(code: violation.code)
    }

    private func receiveText(_ text: ByteBuffer) {
        guard let connection else { return }
        switch limiter.record(bytes: text.readableBytes, at: .now) {
        case .allow: break
        case .limit:
            connection.send(.error(code: "rate_limited", message: "slow down: at most \(limiter.maxMessages) messages per 10 s"))
            return
        case .close:
            close(code: CloseCode.policyViolation, reason: "rate_limited", resumable: false)
            return
        }
        do {
            hub.handle(try ClientMessage.decode(text), from: connection)
        } catch {
            connection.send(.error(code: error.code, message: error.message))
        }
    }

    /// Closes with `code`, counting the disconnection under `reason`.
    func close(code: UInt16, reason: String, resumable: Bool) {
        closeReason = reason
        self.resumable = resumable
        connection?.close(code: code)
    }

    /// The event loop's heartbeat asks each connection in turn.
    func heartbeatTick(now: NIODeadline, interval: TimeAmount, grace: TimeAmount, channel: Channel) {
        if now - lastSeen >= interval + grace {
            // Silent, not gone for good: the client may come back and resume.
            close(code: CloseCode.goingAway, reason: "heartbeat_timeout", resumable: true)
            channel.close(promise: nil)
        } else if now - lastSeen >= interval, connection?.closeSent.load(ordering: .relaxed) == false {
            let ping = ByteBuffer.webSocketFrame(opcode: 0x9, payload: ByteBuffer(), allocator: channel.allocator)
            channel.writeAndFlush(ping, promise: nil)
        }
    }
}
