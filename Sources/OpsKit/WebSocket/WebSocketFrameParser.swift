import NIOCore

/// Reads RFC 6455 frames from a peer's bytes, checks every rule the RFC makes a MUST, and
/// assembles fragmented messages. A value: the connection's handler owns one and feeds it what
/// the socket delivers; tests and fuzzers drive it without a socket.
///
/// Any rule broken is a `Violation` carrying the close code the connection must fail with (1002
/// protocol error, 1007 invalid UTF-8, 1009 too big); from then on the parser only repeats it.
package struct WebSocketFrameParser: Sendable {
    /// Which side we are: a server reads client frames, which must be masked; a client reads
    /// server frames, which must not be.
    package enum Role: Sendable { case server, client }

    package enum Message: Sendable, Equatable {
        case text(ByteBuffer)
        case binary(ByteBuffer)
        case ping(ByteBuffer)
        case pong(ByteBuffer)
        /// `code` is nil for a close frame without a payload (reported as 1005, no status).
        case close(code: UInt16?, reason: String)
    }

    package struct Violation: Error, Sendable, Equatable, CustomStringConvertible {
        package var code: UInt16
        package var reason: String
        package var description: String { "\(code): \(reason)" }

        static func protocolError(_ reason: String) -> Violation { Violation(code: 1002, reason: reason) }
    }

    package let role: Role
    /// The largest message, in payload bytes over all its fragments.
    package let maxMessageSize: Int
    /// The most fragments one message may come in: empty continuation frames cost a peer
    /// nothing to send and must not keep a connection busy forever.
    package let maxFragments: Int

    /// Bytes received and not yet consumed: at most one incomplete frame.
    private var input: ByteBuffer?
    /// The fragments of the message in progress, and its opcode (1 text, 2 binary; 0 none).
    private var assembled: ByteBuffer?
    private var messageOpcode: UInt8 = 0
    private var fragments = 0
    private var utf8 = UTF8Validator()
    private var failure: Violation?

    package init(role: Role, maxMessageSize: Int, maxFragments: Int = 64) {
        self.role = role
        self.maxMessageSize = maxMessageSize
        self.maxFragments = maxFragments
    }

    /// Whether a frame or a fragmented message is partly received.
    package var isMidMessage: Bool { (input?.readableBytes ?? 0) > 0 || messageOpcode != 0 }

    /// Adds bytes from the socket; `next()` then returns the messages they complete.
    package mutating func append(_ bytes: ByteBuffer) {
        guard failure == nil, bytes.readableBytes > 0 else { return }
        if input == nil {
            input = bytes
        } else {
            var bytes = bytes
            input?.writeBuffer(&bytes)
        }
    }

    /// The next complete message, or nil until more bytes arrive.
    package mutating func next() throws(Violation) -> Message? {
        if let failure { throw failure }
        do {
            return try parse()
        } catch {
            failure = error
            input = nil
            assembled = nil
            throw error
        }
    }

    private mutating func parse() throws(Violation) -> Message? {
        while let frame = try nextFrame() {
            if let message = try receive(frame) { return message }
        }
        return nil
    }

    private struct Frame {
        var fin: Bool
        var opcode: UInt8
        var payload: ByteBuffer
    }

    /// Cuts the next whole frame from the input, checking its header as soon as it is there, so a
    /// bad or oversized frame fails before its payload is waited for.
    private mutating func nextFrame() throws(Violation) -> Frame? {
        guard var buffer = input, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)
        else { return nil }
        let fin = first & 0x80 != 0
        let opcode = first & 0x0F
        let masked = second & 0x80 != 0
        let shortLength = second & 0x7F
        let isControl = opcode & 0x08 != 0

        guard first & 0x70 == 0 else { throw .protocolError("reserved bits set, but no extension was negotiated") }
        switch opcode {
        case 0x0, 0x1, 0x2, 0x8, 0x9, 0xA: break
        default: throw .protocolError("reserved opcode \(opcode)")
        }
        switch role {
        case .server: guard masked else { throw .protocolError("client frames must be masked") }
        case .client: guard !masked else { throw .protocolError("server frames must not be masked") }
        }
        if isControl {
            guard fin else { throw .protocolError("fragmented control frame") }
            guard shortLength <= 125 else { throw .protocolError("control frame payload longer than 125 bytes") }
        } else if opcode == 0 {
            guard messageOpcode != 0 else { throw .protocolError("continuation frame with no message to continue") }
        } else {
            guard messageOpcode == 0 else { throw .protocolError("new message before the fragmented one finished") }
        }

        var headerLength = 2
        let length: UInt64
        switch shortLength {
        case 126:
            guard let word = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self) else { return nil }
            length = UInt64(word)
            headerLength += 2
        case 127:
            guard let word = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt64.self) else { return nil }
            guard word >> 63 == 0 else { throw .protocolError("payload length with the most significant bit set") }
            length = word
            headerLength += 8
        default:
            length = UInt64(shortLength)
        }
        if !isControl {
            let room = maxMessageSize - (assembled?.readableBytes ?? 0)
            guard length <= UInt64(max(0, room)) else {
                throw Violation(code: 1009, reason: "message larger than \(maxMessageSize) bytes")
            }
        }
        // Bounded above: at most 125 for control frames, maxMessageSize for data frames.
        let payloadLength = Int(length)
        let maskLength = masked ? 4 : 0
        guard buffer.readableBytes >= headerLength + maskLength + payloadLength else { return nil }

        buffer.moveReaderIndex(forwardBy: headerLength)
        let key = masked ? buffer.readInteger(endianness: .host, as: UInt32.self) : nil
        guard var payload = buffer.readSlice(length: payloadLength) else { return nil }
        if let key { Self.unmask(&payload, key: key) }
        input = buffer.readableBytes > 0 ? buffer : nil
        return Frame(fin: fin, opcode: opcode, payload: payload)
    }

    private mutating func receive(_ frame: Frame) throws(Violation) -> Message? {
        switch frame.opcode {
        case 0x8: return try Self.close(frame.payload)
        case 0x9: return .ping(frame.payload)
        case 0xA: return .pong(frame.payload)
        default: break
        }
        if frame.opcode != 0 {
            messageOpcode = frame.opcode
            fragments = 0
            utf8 = UTF8Validator()
        }
        fragments += 1
        guard fragments <= maxFragments else {
            throw Violation(code: 1009, reason: "message in more than \(maxFragments) fragments")
        }
        if messageOpcode == 0x1 {
            let valid = frame.payload.withUnsafeReadableBytes { utf8.validate($0) }
            guard valid else { throw Violation(code: 1007, reason: "invalid UTF-8 in a text message") }
        }
        var payload = frame.payload
        if assembled != nil {
            assembled?.writeBuffer(&payload)
        } else {
            assembled = payload
        }
        guard frame.fin, let message = assembled else { return nil }
        let opcode = messageOpcode
        assembled = nil
        messageOpcode = 0
        if opcode == 0x1 {
            guard utf8.isComplete else { throw Violation(code: 1007, reason: "text message ends inside a UTF-8 sequence") }
            return .text(message)
        }
        return .binary(message)
    }

    /// A close frame's payload: nothing, or a valid code and a UTF-8 reason (RFC 6455 section 7.4).
    private static func close(_ payload: ByteBuffer) throws(Violation) -> Message {
        var payload = payload
        guard payload.readableBytes > 0 else { return .close(code: nil, reason: "") }
        guard let code = payload.readInteger(as: UInt16.self) else { throw .protocolError("close frame with a 1-byte payload") }
        guard isValidCloseCode(code) else { throw .protocolError("invalid close code \(code)") }
        var validator = UTF8Validator()
        let valid = payload.withUnsafeReadableBytes { validator.validate($0) } && validator.isComplete
        guard valid, let reason = payload.readString(length: payload.readableBytes) else {
            throw Violation(code: 1007, reason: "close reason is not UTF-8")
        }
        return .close(code: code, reason: reason)
    }

    /// Codes a peer may send: the RFC's and IANA's registered ones, and the 3000-4999 ranges for
    /// libraries and applications. 1005, 1006 and 1015 are never sent on the wire.
    package static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }

    /// XORs the payload with the masking key, eight bytes at a time where it can.
    /// - Parameter key: the four key bytes as they were on the wire, loaded in host order.
    package static func unmask(_ payload: inout ByteBuffer, key: UInt32) {
        payload.withUnsafeMutableReadableBytes { bytes in
            let wide = UInt64(key) | UInt64(key) << 32
            var index = 0
            while bytes.count - index >= 8 {
                let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                bytes.storeBytes(of: word ^ wide, toByteOffset: index, as: UInt64.self)
                index += 8
            }
            withUnsafeBytes(of: key) { keyBytes in
                while index < bytes.count {
                    bytes[index] ^= keyBytes[index & 3]
                    index += 1
                }
            }
        }
    }
}
