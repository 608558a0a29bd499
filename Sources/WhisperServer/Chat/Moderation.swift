import Foundation

/// Blocks messages containing listed words (whole words, case-insensitive).
struct Moderation: Sendable {
    static let builtIn: Set<String> = ["spamlink", "buy-followers", "kill-yourself"]

    let words: Set<String>

    init(words: Set<String> = Moderation.builtIn) { self.words = words }

    /// One word or phrase per line; `#` starts a comment.
    init(file: String) throws {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let entries = text.split(whereSeparator: \.isNewline)
            .map { $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        words = Set(entries)
    }

    func blocks(_ text: String) -> Bool {
        guard !words.isEmpty else { return false }
        let lower = text.lowercased()
        let tokens = lower.split { !$0.isLetter && !$0.isNumber && $0 != "-" && $0 != "'" }
        if tokens.contains(where: { words.contains(String($0)) }) { return true }
        // Phrases of several words match as a substring.
        return words.contains { $0.contains(" ") && lower.contains($0) }
    }
}
