import Foundation
import NIOCore

/// Writing frames the server sends (unmasked, RFC 6455 section 5.2): the payload is written
/// first into a buffer with room in front, then the header goes into that room, so a frame is
/// one buffer and one write.
extension ByteBuffer {
    /// The longest header an unmasked frame needs: 2 bytes, plus 8 for a 64-bit length.
    package static let webSocketHeaderRoom = 10

    /// An empty buffer to write a frame's payload into, with room for its header in front.
    package static func webSocketFrame(allocator: ByteBufferAllocator, payloadCapacity: Int) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: payloadCapacity + webSocketHeaderRoom)
        buffer.moveWriterIndex(forwardBy: webSocketHeaderRoom)
        buffer.moveReaderIndex(forwardBy: webSocketHeaderRoom)
        return buffer
    }

    /// Puts a frame header for the readable bytes in front of them (the room
    /// `webSocketFrame(allocator:payloadCapacity:)` left).
    package mutating func prependWebSocketHeader(opcode: UInt8, fin: Bool = true) {
        let length = readableBytes
        let first = (fin ? 0x80 : 0) | opcode
        let start: Int
        if length < 126 {
            start = readerIndex - 2
            setInteger(UInt8(length), at: start + 1)
        } else if length <= Int(UInt16.max) {
            start = readerIndex - 4
            setInteger(UInt8(126), at: start + 1)
            setInteger(UInt16(length), at: start + 2)
        } else {
            start = readerIndex - 10
            setInteger(UInt8(127), at: start + 1)
            setInteger(UInt64(length), at: start + 2)
        }
        setInteger(first, at: start)
        moveReaderIndex(to: start)
    }

    /// A whole unmasked frame: header and `payload`.
    package static func webSocketFrame(opcode: UInt8, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload = payload
        var frame = webSocketFrame(allocator: allocator, payloadCapacity: payload.readableBytes)
        frame.writeBuffer(&payload)
        frame.prependWebSocketHeader(opcode: opcode)
        return frame
    }

    /// A close frame with `code` (and no reason).
    package static func webSocketClose(code: UInt16, allocator: ByteBufferAllocator) -> ByteBuffer {
        var frame = webSocketFrame(allocator: allocator, payloadCapacity: 2)
        frame.writeInteger(code)
        frame.prependWebSocketHeader(opcode: 0x8)
        return frame
    }
}

/// The opening handshake's accept value (RFC 6455 section 4.2.2): base64(SHA-1(key + GUID)).
package enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    package static func acceptValue(forKey key: String) -> String {
        Data(Digest.sha1(Array((key + guid).utf8))).base64EncodedString()
    }

    /// A key is 16 random bytes in base64: 24 characters ending in "==".
    package static func isValidKey(_ key: String) -> Bool {
        key.utf8.count == 24 && Data(base64Encoded: key)?.count == 16
    }
}
