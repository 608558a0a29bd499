import NIOCore
import OpsKit
import Synchronization

/// One client connection as the rest of the server sees it: how to reach it from any thread.
final class ChatConnection: Sendable, Hashable {
    /// New for every connection, also a resumed one.
    let id: String
    /// The client address (X-Forwarded-For from a trusted proxy, else the peer), only ever held in
    /// memory to count connections per IP; anything stored uses `ipHash`.
    let ip: String
    let ipHash: String
    let channel: Channel
    /// Set once our close frame is on its way: nothing is sent after it, and the connection closes
    /// when the client answers.
    let closeSent = Atomic<Bool>(false)
    /// How long a client has to answer our close frame before the TCP connection is cut.
    static let closeGrace: TimeAmount = .seconds(1)

    init(id: String, ip: String, ipHash: String, channel: Channel) {
        self.id = id
        self.ip = ip
        self.ipHash = ipHash
        self.channel = channel
    }

    /// Writes one text frame; `written` runs on the connection's event loop once it is on the wire.
    func send(_ message: ServerMessage, written: (@Sendable () -> Void)? = nil) {
        guard !closeSent.load(ordering: .relaxed) else { return }
        var frame = ByteBuffer.webSocketFrame(allocator: channel.allocator, payloadCapacity: 128)
        message.encode(into: &frame)
        frame.prependWebSocketHeader(opcode: 0x1)
        guard let written else {
            channel.writeAndFlush(frame, promise: nil)
            return
        }
        channel.writeAndFlush(frame).whenSuccess { written() }
    }

    /// Starts the closing handshake (RFC 6455 §7): our close frame, then the TCP connection closes
    /// when the client's close frame arrives or after `closeGrace`. Frames the client sent before
    /// it saw ours are still read and handled, so a message in flight is not lost.
    func close(code: UInt16) {
        guard !closeSent.exchange(true, ordering: .relaxed) else { return }
        let channel = self.channel
        channel.writeAndFlush(ByteBuffer.webSocketClose(code: code, allocator: channel.allocator)).whenComplete { result in
            guard case .success = result else { return channel.close(promise: nil) }
            channel.eventLoop.scheduleTask(in: ChatConnection.closeGrace) { channel.close(promise: nil) }
        }
    }

    /// Fails the connection (RFC 6455 §7.1.7): our close frame with `code`, then the TCP
    /// connection closes at once, reading nothing more from a client that broke the protocol.
    func fail(code: UInt16) {
        let channel = self.channel
        guard !closeSent.exchange(true, ordering: .relaxed) else { return channel.close(promise: nil) }
        channel.writeAndFlush(ByteBuffer.webSocketClose(code: code, allocator: channel.allocator)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    static func == (lhs: ChatConnection, rhs: ChatConnection) -> Bool { lhs === rhs }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
