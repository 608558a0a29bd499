import CHiredis
import NIOCore

/// Turns Redis' byte stream into replies with hiredis' own reader, so the parsing is the one
/// redis-cli uses; I/O stays with SwiftNIO.
///
/// The reader is a C object used only on the channel's event loop; the class owns it and frees it.
package final class RESPReplyDecoder: ByteToMessageDecoder {
    package typealias InboundOut = RESPValue

    private let reader: UnsafeMutablePointer<redisReader>

    package init() {
        reader = redisReaderCreate()
    }

    deinit { redisReaderFree(reader) }

    package func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if buffer.readableBytes > 0 {
            let status = buffer.withUnsafeReadableBytes { raw in
                raw.withMemoryRebound(to: CChar.self) { redisReaderFeed(reader, $0.baseAddress, $0.count) }
            }
            buffer.moveReaderIndex(to: buffer.writerIndex)
            guard status == REDIS_OK else { throw readerError() }
        }
        // Hand on every complete reply now: NIO does not call `decode` again for an empty buffer,
        // and the reader keeps the bytes it was fed.
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw readerError() }
            guard let raw else { return .needMoreData }
            let reply = RedisConnection.decode(raw.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(raw)
            context.fireChannelRead(wrapInboundOut(reply))
        }
    }

    package func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    private func readerError() -> OpsError {
        let text = withUnsafeBytes(of: reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return OpsError(.protocolError, "protocol error: \(text)")
    }
}

/// Commands in RESP: an array of bulk strings, written straight into the outbound buffer.
enum RESPCommandEncoder {
    static func encode(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeString("*\(arguments.count)\r\n")
        for argument in arguments {
            buffer.writeString("$\(argument.utf8.count)\r\n")
            buffer.writeString(argument)
            buffer.writeStaticString("\r\n")
        }
    }
}
