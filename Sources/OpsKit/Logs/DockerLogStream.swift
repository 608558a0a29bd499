/// The Docker Engine API's log stream: a container without a TTY sends frames of an 8-byte
/// header (stream 0 stdin, 1 stdout, 2 stderr; three zero bytes; a big-endian 32-bit length) and
/// the payload; a container with a TTY sends the raw bytes. Hostile or cut-short input ends the
/// frames where it stops making sense, never past the buffer.
public enum DockerLogStream {
    public struct Chunk: Equatable, Sendable {
        public let stream: UInt8
        public let bytes: [UInt8]
    }

    /// The chunks of `bytes`, and how many bytes at the end are an unfinished frame (kept for
    /// the next read when following).
    public static func frames(_ bytes: [UInt8]) -> (chunks: [Chunk], remainder: Int) {
        guard isMultiplexed(bytes) else { return (bytes.isEmpty ? [] : [Chunk(stream: 1, bytes: bytes)], 0) }
        var chunks: [Chunk] = []
        var offset = 0
        while bytes.count - offset >= 8 {
            let header = bytes[offset..<offset + 8]
            let stream = header[offset]
            guard stream <= 2, header[offset + 1] == 0, header[offset + 2] == 0, header[offset + 3] == 0 else {
                // Not a frame after all: the rest as it is.
                chunks.append(Chunk(stream: 1, bytes: Array(bytes[offset...])))
                return (chunks, 0)
            }
            let length = header[(offset + 4)...].reduce(0) { $0 << 8 | Int($1) }
            guard bytes.count - offset - 8 >= length else { break }
            chunks.append(Chunk(stream: stream, bytes: Array(bytes[(offset + 8)..<(offset + 8 + length)])))
            offset += 8 + length
        }
        return (chunks, bytes.count - offset)
    }

    /// The text lines of a whole response.
    public static func lines(_ bytes: [UInt8]) -> [String] {
        let chunks = frames(bytes).chunks
        let joined = chunks.flatMap(\.bytes)
        return String(decoding: joined, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init).dropLastIfEmpty()
    }

    static func isMultiplexed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 8 && bytes[0] <= 2 && bytes[1] == 0 && bytes[2] == 0 && bytes[3] == 0
    }
}

extension Array where Element == String {
    /// Text ending in a newline splits into one empty string too many.
    func dropLastIfEmpty() -> [String] { last == "" ? Array(dropLast()) : self }
}
