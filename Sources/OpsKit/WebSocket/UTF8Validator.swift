/// Checks UTF-8 (RFC 3629) a piece at a time, so a text message split across WebSocket fragments
/// is refused at the first bad byte, wherever the pieces were cut (RFC 6455 section 8.1).
package struct UTF8Validator: Sendable {
    /// Continuation bytes still expected for the current scalar.
    private var needed = 0
    /// Bounds of the next continuation byte: narrower than 0x80...0xBF right after some lead
    /// bytes, which rules out overlong forms, surrogates and scalars above U+10FFFF.
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    package init() {}

    /// Whether the input so far ends on a whole scalar.
    package var isComplete: Bool { needed == 0 }

    /// Feeds `bytes`; false at the first byte that cannot be UTF-8 (the validator is then spent).
    package mutating func validate<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Bool {
        for byte in bytes where !step(byte) { return false }
        return true
    }

    /// Feeds a buffer, skipping runs of ASCII eight bytes at a time (the usual chat text).
    package mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            if needed == 0, count - index >= 8 {
                let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                    continue
                }
            }
            guard step(bytes[index]) else { return false }
            index += 1
        }
        return true
    }

    private mutating func step(_ byte: UInt8) -> Bool {
        if needed > 0 {
            guard byte >= lower, byte <= upper else { return false }
            needed -= 1
            lower = 0x80
            upper = 0xBF
            return true
        }
        switch byte {
        case 0x00...0x7F: return true
        case 0xC2...0xDF: needed = 1
        case 0xE0: needed = 2; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: needed = 2
        case 0xED: needed = 2; upper = 0x9F
        case 0xF0: needed = 3; lower = 0x90
        case 0xF1...0xF3: needed = 3
        case 0xF4: needed = 3; upper = 0x8F
        default: return false
        }
        return true
    }
}
