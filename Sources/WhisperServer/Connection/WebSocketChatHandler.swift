import NIOCore
import NIOWebSocket

/// Speaks the chat protocol on one upgraded connection: a handler on the channel, no task per
/// connection, so an idle user costs only NIO's channel and this object.
final class WebSocketChatHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let hub: ChatHub
    private let heartbeat: HeartbeatRegistry
    private var connection: ChatConnection?
    private var limiter: RateLimiter
    private(set) var lastSeen = NIODeadline.now()
    private var closeReason = "client_closed"

    init(hub: ChatHub, heartbeat: HeartbeatRegistry) {
        self.hub = hub
        self.heartbeat = heartbeat
        limiter = RateLimiter(maxMessages: hub.configuration.maxMessagesPer10s, maxBytes: hub.configuration.maxBytesPer10s)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let connection = ChatConnection(
            session: SessionID.make(), resumeToken: SessionID.make(bytes: 24),
            ip: context.channel.remoteAddress?.ipAddress ?? "unknown", channel: context.channel)
        self.connection = connection
        heartbeat.add(self, channel: context.channel)
        hub.register(connection)
    }

    func channelInactive(context: ChannelHandlerContext) {
        heartbeat.remove(self)
        if let connection { hub.disconnect(connection, reason: closeReason) }
        connection = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        lastSeen = .now()
        switch frame.opcode {
        case .text:
            receiveText(frame, context: context)
        case .binary:
            close(code: .unacceptableData, reason: "binary_frame")
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            closeReason = "client_closed"
            var data = frame.unmaskedData
            let code = data.readWebSocketErrorCode() ?? .normalClosure
            connection?.close(code: code)
        default:
            break
        }
    }

    private func receiveText(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        guard let connection else { return }
        let receivedAt = ContinuousClock.now
        var data = frame.unmaskedData
        let size = data.readableBytes
        guard let text = data.readString(length: size), text.utf8.elementsEqual(frame.unmaskedData.readableBytesView) else {
            close(code: .dataInconsistentWithMessage, reason: "invalid_utf8")
            return
        }
        switch limiter.record(bytes: size, at: receivedAt) {
        case .allow: break
        case .limit:
            connection.send(.error(code: "rate_limited", message: "slow down: at most \(limiter.maxMessages) messages per 10 s"))
            return
        case .close:
            close(code: .policyViolation, reason: "rate_limited")
            return
        }
        do {
            hub.handle(try ClientMessage.decode(text), from: connection, receivedAt: receivedAt)
        } catch {
            connection.send(.error(code: error.code, message: error.message))
        }
    }

    /// Closes with `code`, counting the disconnection under `reason`.
    func close(code: WebSocketErrorCode, reason: String) {
        closeReason = reason
        connection?.close(code: code)
    }

    /// The event loop's heartbeat asks each connection in turn.
    func heartbeatTick(now: NIODeadline, interval: TimeAmount, grace: TimeAmount, channel: Channel) {
        if now - lastSeen >= interval + grace {
            close(code: .goingAway, reason: "heartbeat_timeout")
            channel.close(promise: nil)
        } else if now - lastSeen >= interval {
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .ping, data: channel.allocator.buffer(capacity: 0)), promise: nil)
        }
    }
}

/// Opaque identifiers for sessions and resume tokens.
enum SessionID {
    static func make(bytes count: Int = 16) -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }
}
