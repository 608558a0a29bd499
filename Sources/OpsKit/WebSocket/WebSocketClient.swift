import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOWebSocket

/// What a WebSocket client receives.
public enum WebSocketEvent: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
    case ping
    /// The server's close frame (its code, nil when it sent none), or the TCP connection ending.
    case closed(code: UInt16?)
}

/// A small WebSocket client over SwiftNIO, for probes, tests and the load generator's checks.
public final class WebSocketClient: Sendable {
    private let channel: Channel
    private let inbox: Inbox

    private init(channel: Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// The next event, in arrival order; throws `OpsError(.timedOut)` after `timeout`.
    public func next(timeout: Duration = .seconds(5)) async throws -> WebSocketEvent {
        try await inbox.next(timeout: timeout)
    }

    /// Connects and upgrades; throws `OpsError` naming the URL when either fails.
    /// - Parameters:
    ///   - host/port/path: where the WebSocket endpoint is, e.g. 127.0.0.1, 8080, "/ws".
    ///   - answerPings: false makes a silent peer, for heartbeat tests.
    ///   - group: the event loops to use.
    public static func connect(
        host: String, port: Int, path: String = "/ws", timeout: Duration = .seconds(5), answerPings: Bool = true,
        sourceAddress: String? = nil, headers: [(String, String)] = [],
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> WebSocketClient {
        let endpoint = "ws://\(host):\(port)\(path)"
        let inbox = Inbox()
        let upgraded = group.next().makePromise(of: Void.self)
        var bootstrap = ClientBootstrap(group: group)
        if let sourceAddress { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: sourceAddress, port: 0)) }
        bootstrap = bootstrap
            .connectTimeout(timeout.timeAmount)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        WebSocketHandshakeHandler(
                            host: host, port: port, path: path, headers: headers, upgraded: upgraded,
                            frameHandler: ClientFrameHandler(inbox: inbox, answerPings: answerPings)))
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            // No channel, no handshake handler: nobody else completes the promise.
            upgraded.fail(error)
            throw OpsError(.connectionRefused, "cannot connect (\(error))", endpoint: endpoint)
        }
        // A peer that accepts and never answers the upgrade (a stopped server) fails it too.
        let deadline = channel.eventLoop.scheduleTask(in: timeout.timeAmount) {
            upgraded.fail(OpsError.timedOut(after: timeout, endpoint: endpoint))
        }
        defer { deadline.cancel() }
        do {
            try await upgraded.futureResult.get()
        } catch {
            // The upgrade error is the one to report; the channel may already be closed.
            try? await channel.close()
            throw OpsError(.protocolError, "WebSocket upgrade refused (\(error))", endpoint: endpoint)
        }
        return WebSocketClient(channel: channel, inbox: inbox)
    }

    /// Sends one masked text frame.
    public func send(text: String) async throws {
        try await send(opcode: .text, bytes: Array(text.utf8))
    }

    /// Sends any frame, including ones a well-behaved client would not (tests of bad input).
    public func send(opcode: WebSocketOpcode, bytes: [UInt8], fin: Bool = true) async throws {
        let frame = WebSocketFrame(fin: fin, opcode: opcode, maskKey: .random(), data: channel.allocator.buffer(bytes: bytes))
        try await channel.writeAndFlush(frame)
    }

    /// Sends a close frame with `code` and closes.
    public func close(code: UInt16 = 1000) async {
        var data = channel.allocator.buffer(capacity: 2)
        data.writeInteger(code)
        // A peer that already closed cannot take a close frame: closing is all that is left.
        try? await channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data))
        try? await channel.close()
    }

    /// Stops reading from the socket, as a stuck client does: the server's writes back up.
    public func stopReading() async {
        // On a closed channel there is nothing left to stop reading.
        try? await channel.setOption(.autoRead, value: false)
    }

    /// Drops the TCP connection without a close frame, as a vanished client does.
    public func abort() async {
        try? await channel.close()
    }
}

/// Performs the client side of the opening handshake (RFC 6455 section 4.1) on raw bytes, then
/// replaces itself with the frame codec, handing on any frame bytes that came with the 101.
final class WebSocketHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let host: String
    let port: Int
    let path: String
    let headers: [(String, String)]
    let upgraded: EventLoopPromise<Void>
    /// Receives the frames once the handshake is done.
    let frameHandler: ChannelHandler
    private var received: ByteBuffer?

    init(host: String, port: Int, path: String, headers: [(String, String)] = [], upgraded: EventLoopPromise<Void>, frameHandler: ChannelHandler) {
        self.host = host
        self.port = port
        self.path = path
        self.headers = headers
        self.upgraded = upgraded
        self.frameHandler = frameHandler
    }

    /// The largest response head accepted before the upgrade is refused.
    static let maxHeadLength = 16 * 1024
    private var key = ""

    func channelActive(context: ChannelHandlerContext) {
        var nonce = [UInt8](repeating: 0, count: 16)
        for index in nonce.indices { nonce[index] = .random(in: 0...255) }
        key = Data(nonce).base64EncodedString()
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + headers.map { "\($0.0): \($0.1)\r\n" }.joined()
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received == nil { received = bytes } else { received?.writeBuffer(&bytes) }
        guard var buffer = received else { return }
        guard let end = buffer.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) else {
            if buffer.readableBytes > Self.maxHeadLength { refuse("response head longer than \(Self.maxHeadLength) bytes", context: context) }
            return
        }
        let head = buffer.readString(length: end.upperBound - buffer.readerIndex) ?? ""
        if let problem = Self.problem(withResponse: head, key: key) {
            refuse(problem, context: context)
            return
        }
        do {
            let operations = context.pipeline.syncOperations
            try operations.addHandler(WebSocketFrameEncoder(), position: .after(self))
            let decoder = ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 16))
            try operations.addHandler(decoder, position: .after(self))
            try operations.addHandler(frameHandler, position: .last)
        } catch {
            upgraded.fail(error)
            context.close(promise: nil)
            return
        }
        upgraded.succeed()
        received = nil
        if buffer.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(buffer)) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// What is wrong with the server's answer to our upgrade request, if anything: it must be a
    /// 101 with `Upgrade: websocket` and the accept value our key asks for (RFC 6455 section 4.1).
    static func problem(withResponse head: String, key: String) -> String? {
        let lines = head.split(separator: "\r\n")
        let statusLine = lines.first ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        guard status == 101 else { return "HTTP \(status.map(String.init) ?? "response unreadable: \(statusLine.prefix(80))")" }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard fields["upgrade"]?.lowercased() == "websocket" else { return "101 without Upgrade: websocket" }
        guard let accept = fields["sec-websocket-accept"] else { return "101 without Sec-WebSocket-Accept" }
        guard accept == WebSocketHandshake.acceptValue(forKey: key) else { return "Sec-WebSocket-Accept does not match the key sent" }
        return nil
    }

    private func refuse(_ problem: String, context: ChannelHandlerContext) {
        received = nil
        upgraded.fail(OpsError(.protocolError, problem))
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        upgraded.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        upgraded.fail(OpsError(.io, "connection closed during the upgrade"))
        context.fireChannelInactive()
    }
}

private final class ClientFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame
    let inbox: Inbox
    let answerPings: Bool
    private var closed = false

    init(inbox: Inbox, answerPings: Bool) {
        self.inbox = inbox
        self.answerPings = answerPings
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        var payload = frame.unmaskedData
        switch frame.opcode {
        case .text:
            inbox.push(.text(payload.readString(length: payload.readableBytes) ?? ""))
        case .binary:
            inbox.push(.binary(payload.readBytes(length: payload.readableBytes) ?? []))
        case .ping:
            inbox.push(.ping)
            guard answerPings else { return }
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            finish(code: payload.readInteger(as: UInt16.self))
            // Answer the close, as RFC 6455 asks, then hang up.
            let echo = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(echo)).whenComplete { _ in context.close(promise: nil) }
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(code: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    private func finish(code: UInt16?) {
        guard !closed else { return }
        closed = true
        inbox.push(.closed(code: code))
    }
}

/// Events waiting to be read, and the reader waiting for them.
final class Inbox: Sendable {
    private struct State {
        var buffer: [WebSocketEvent] = []
        var waiter: (id: Int, continuation: CheckedContinuation<WebSocketEvent?, Never>)?
        var waits = 0
    }

    private let state = NIOLockedValueBox(State())

    func push(_ event: WebSocketEvent) {
        let waiting: CheckedContinuation<WebSocketEvent?, Never>? = state.withLockedValue { state in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter.continuation
            }
            state.buffer.append(event)
            return nil
        }
        waiting?.resume(returning: event)
    }

    func next(timeout: Duration) async throws -> WebSocketEvent {
        let event = await withTimeout(timeout) { await self.nextEvent() } onTimeout: { nil }
        try Task.checkCancellation()
        guard let event else { throw OpsError(.timedOut, "no WebSocket frame within \(timeout.humanReadable)") }
        return event
    }

    /// The next event, or nil once the waiting task is cancelled.
    private func nextEvent() async -> WebSocketEvent? {
        let waitID = NIOLockedValueBox<Int?>(nil)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let id: Int? = state.withLockedValue { state in
                    if !state.buffer.isEmpty {
                        continuation.resume(returning: state.buffer.removeFirst())
                        return nil
                    }
                    state.waits += 1
                    state.waiter = (state.waits, continuation)
                    return state.waits
                }
                guard let id else { return }
                waitID.withLockedValue { $0 = id }
                // Cancelled before the id was stored: the handler below found nothing to expire.
                if Task.isCancelled { self.expire(id) }
            }
        } onCancel: {
            if let id = waitID.withLockedValue({ $0 }) { self.expire(id) }
        }
    }

    private func expire(_ id: Int) {
        let waiting: CheckedContinuation<WebSocketEvent?, Never>? = state.withLockedValue { state in
            guard let waiter = state.waiter, waiter.id == id else { return nil }
            state.waiter = nil
            return waiter.continuation
        }
        waiting?.resume(returning: nil)
    }
}
