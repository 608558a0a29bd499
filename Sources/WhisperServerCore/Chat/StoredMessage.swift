/// A chat message as it travels and as the resume buffer keeps it. `seq` counts 1, 2, 3... per
/// sender within a chat, so the receiving side can tell a gap from a duplicate; it is the `id`
/// clients see.
package struct StoredMessage: Sendable, Equatable {
    var seq: Int
    var text: String
    /// Wall clock, µs, when the sender's server took the message.
    var sentAtMicros: Int64
    /// The sender's own id for it, so a resend after a resume is recognised.
    var clientID: String?

    init(seq: Int, text: String, sentAtMicros: Int64, clientID: String? = nil) {
        self.seq = seq
        self.text = text
        self.sentAtMicros = sentAtMicros
        self.clientID = clientID
    }

    /// `sent_at` as clients see it: Unix milliseconds.
    var sentAtMillis: Int64 { sentAtMicros / 1000 }

    /// How the resume buffer holds it: `seq|sent_at_us|client_id|text` (client ids never hold `|`).
    package var bufferEntry: String { "\(seq)|\(sentAtMicros)|\(clientID ?? "")|\(text)" }

    package init?(bufferEntry entry: String) {
        let parts = entry.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, let seq = Int(parts[0]), seq > 0, let sentAt = Int64(parts[1]) else { return nil }
        self.init(seq: seq, text: String(parts[3]), sentAtMicros: sentAt, clientID: parts[2].isEmpty ? nil : String(parts[2]))
    }
}

/// The last `capacity` messages for one session, oldest first; appending is O(1).
struct MessageRing {
    private var storage: [StoredMessage] = []
    private var start = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    mutating func append(_ message: StoredMessage) {
        if storage.count < capacity {
            storage.append(message)
        } else {
            storage[start] = message
            start = (start + 1) % capacity
        }
    }

    var all: [StoredMessage] { Array(storage[start...] + storage[..<start]) }

    func messages(after seq: Int) -> [StoredMessage] { all.filter { $0.seq > seq } }
}
