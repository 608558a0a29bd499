import NIOCore
import NIOWebSocket

/// One client connection as the rest of the server sees it: how to reach it from any thread.
final class ChatConnection: Sendable, Hashable {
    /// New for every connection, also a resumed one.
    let id: String
    /// The client address (X-Forwarded-For from a trusted proxy, else the peer), only ever held in
    /// memory to count connections per IP; anything stored uses `ipHash`.
    let ip: String
    let ipHash: String
    let channel: Channel

    init(id: String, ip: String, ipHash: String, channel: Channel) {
        self.id = id
        self.ip = ip
        self.ipHash = ipHash
        self.channel = channel
    }

    /// Writes one text frame; `written` runs on the connection's event loop once it is on the wire.
    func send(_ message: ServerMessage, written: (@Sendable () -> Void)? = nil) {
        let frame = WebSocketFrame(fin: true, opcode: .text, data: channel.allocator.buffer(string: message.text))
        guard let written else {
            channel.writeAndFlush(frame, promise: nil)
            return
        }
        channel.writeAndFlush(frame).whenSuccess { written() }
    }

    /// Sends a close frame with `code`, then closes the TCP connection.
    func close(code: WebSocketErrorCode) {
        var data = channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        let channel = self.channel
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    static func == (lhs: ChatConnection, rhs: ChatConnection) -> Bool { lhs === rhs }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
