import NIOCore

/// One message delivered on a subscription.
public struct NATSMessage: Sendable {
    public var subject: String
    public var replyTo: String?
    public var payload: ByteBuffer

    public init(subject: String, replyTo: String? = nil, payload: ByteBuffer) {
        self.subject = subject
        self.replyTo = replyTo
        self.payload = payload
    }
}

/// What the server sends, one protocol line (plus payload) at a time.
package enum NATSServerOperation: Sendable {
    case info(maxPayload: Int?, raw: String)
    case msg(sid: Int, message: NATSMessage)
    case ping
    case pong
    case ok
    case err(String)
}

/// Splits the server's byte stream into operations. Control lines end in CRLF; MSG carries a
/// payload of the announced length followed by CRLF.
package struct NATSOperationDecoder: ByteToMessageDecoder {
    package typealias InboundOut = NATSServerOperation

    /// The server's own limit on a control line is 4 KiB by default; anything much longer is
    /// not NATS.
    static let maxControlLine = 64 * 1024
    /// NATS servers refuse max_payload above 64 MiB; a larger announced size is not NATS either.
    static let maxPayload = 64 * 1024 * 1024

    package init() {}

    package func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > Self.maxControlLine { throw NATSProtocolError("control line longer than 64 KiB") }
            return .needMoreData
        }
        var lineEnd = newline
        if lineEnd > view.startIndex, view[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
        let line = String(decoding: view[view.startIndex..<lineEnd], as: UTF8.self)
        let lineLength = newline - view.startIndex + 1
        let (verb, arguments) = Self.split(line)
        switch verb {
        case "MSG":
            // MSG <subject> <sid> [reply-to] <#bytes>
            guard arguments.count == 3 || arguments.count == 4, let sid = Int(arguments[1]),
                let size = Int(arguments[arguments.count - 1]), (0...Self.maxPayload).contains(size)
            else { throw NATSProtocolError("malformed MSG line '\(line.prefix(120))'") }
            guard buffer.readableBytes >= lineLength + size + 2 else { return .needMoreData }
            buffer.moveReaderIndex(forwardBy: lineLength)
            guard let payload = buffer.readSlice(length: size) else { return .needMoreData }
            buffer.moveReaderIndex(forwardBy: 2)
            let replyTo = arguments.count == 4 ? arguments[2] : nil
            context.fireChannelRead(
                Self.wrapInboundOut(.msg(sid: sid, message: NATSMessage(subject: arguments[0], replyTo: replyTo, payload: payload))))
            return .continue
        case "INFO":
            buffer.moveReaderIndex(forwardBy: lineLength)
            let json = String(line.dropFirst(4)).trimmingSpaces
            let maxPayload = (try? JSONValue.parse(Array(json.utf8)))?["max_payload"]?.intValue
            context.fireChannelRead(Self.wrapInboundOut(.info(maxPayload: maxPayload, raw: json)))
        case "PING": buffer.moveReaderIndex(forwardBy: lineLength); context.fireChannelRead(Self.wrapInboundOut(.ping))
        case "PONG": buffer.moveReaderIndex(forwardBy: lineLength); context.fireChannelRead(Self.wrapInboundOut(.pong))
        case "+OK": buffer.moveReaderIndex(forwardBy: lineLength); context.fireChannelRead(Self.wrapInboundOut(.ok))
        case "-ERR":
            buffer.moveReaderIndex(forwardBy: lineLength)
            var text = String(line.dropFirst(4)).trimmingSpaces
            if text.hasPrefix("'") && text.hasSuffix("'") && text.count >= 2 { text = String(text.dropFirst().dropLast()) }
            context.fireChannelRead(Self.wrapInboundOut(.err(text)))
        default:
            throw NATSProtocolError("unexpected line '\(line.prefix(80))'")
        }
        return .continue
    }

    package func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    static func split(_ line: String) -> (verb: String, arguments: [String]) {
        let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = parts.first else { return ("", []) }
        return (first.uppercased(), Array(parts.dropFirst()))
    }
}

struct NATSProtocolError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Builds the client's protocol lines straight into buffers.
enum NATSClientOperation {
    static func publish(subject: String, payload: ByteBuffer, into buffer: inout ByteBuffer) {
        buffer.writeString("PUB \(subject) \(payload.readableBytes)\r\n")
        var payload = payload
        buffer.writeBuffer(&payload)
        buffer.writeStaticString("\r\n")
    }

    /// Bytes one PUB takes on the wire.
    static func publishSize(subject: String, payloadSize: Int) -> Int {
        "PUB \(subject) \(payloadSize)\r\n".utf8.count + payloadSize + 2
    }

    static func subscribe(subject: String, queue: String?, sid: Int, into buffer: inout ByteBuffer) {
        if let queue {
            buffer.writeString("SUB \(subject) \(queue) \(sid)\r\n")
        } else {
            buffer.writeString("SUB \(subject) \(sid)\r\n")
        }
    }

    static func unsubscribe(sid: Int, into buffer: inout ByteBuffer) {
        buffer.writeString("UNSUB \(sid)\r\n")
    }

    /// A subject is one or more dot-separated tokens with no whitespace.
    static func isValidSubject(_ subject: String, allowWildcards: Bool) -> Bool {
        guard !subject.isEmpty else { return false }
        for token in subject.split(separator: ".", omittingEmptySubsequences: false) {
            if token.isEmpty { return false }
            if token.contains(where: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }) { return false }
            if !allowWildcards && (token == "*" || token == ">") { return false }
        }
        return true
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
