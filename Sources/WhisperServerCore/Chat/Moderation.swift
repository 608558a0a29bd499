import Foundation

/// Blocks messages containing listed words (whole words, case-insensitive).
struct Moderation: Sendable {
    static let builtIn: Set<String> = ["spamlink", "buy-followers", "kill-yourself"]

    let words: Set<String>
    /// Word lengths in UTF-8 bytes, so most tokens are dismissed without building a String.
    private let lengths: Set<Int>
    private let phrases: [String]

    init(words: Set<String> = Moderation.builtIn) {
        self.words = words
        lengths = Set(words.map(\.utf8.count))
        phrases = words.filter { $0.contains(" ") }
    }

    /// One word or phrase per line; `#` starts a comment.
    init(file: String) throws {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let entries = text.split(whereSeparator: \.isNewline)
            .map { $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        self.init(words: Set(entries))
    }

    func blocks(_ text: String) -> Bool {
        guard !words.isEmpty else { return false }
        // Every relayed message passes here: plain ASCII, by far the common case, is tokenised on
        // the bytes without Unicode property look-ups.
        let bytes = text.utf8
        if phrases.isEmpty, bytes.allSatisfy({ $0 < 0x80 }) {
            var start = bytes.startIndex
            while start < bytes.endIndex {
                guard Moderation.isWordByte(bytes[start]) else {
                    start = bytes.index(after: start)
                    continue
                }
                var end = start
                while end < bytes.endIndex, Moderation.isWordByte(bytes[end]) { end = bytes.index(after: end) }
                if lengths.contains(bytes.distance(from: start, to: end)),
                    words.contains(String(decoding: bytes[start..<end].map { $0 | ($0 >= 65 && $0 <= 90 ? 0x20 : 0) }, as: UTF8.self))
                {
                    return true
                }
                start = end
            }
            return false
        }
        let lower = text.lowercased()
        let tokens = lower.split { !$0.isLetter && !$0.isNumber && $0 != "-" && $0 != "'" }
        if tokens.contains(where: { words.contains(String($0)) }) { return true }
        // Phrases of several words match as a substring.
        return phrases.contains { lower.contains($0) }
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "'"):
            return true
        default:
            return false
        }
    }
}
