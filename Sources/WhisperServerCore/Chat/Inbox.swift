/// The messages a session receives from its partner: written to the client in order, each once.
///
/// Every message of a chat is kept in the receiver's resume buffer before its sender is acked, and
/// numbered 1, 2, 3... per sender. So a message that arrives ahead of a gap waits here while the
/// gap is fetched from the buffer, and one that arrives twice (a replay overlapping live delivery)
/// is dropped. A message the sender resent after a resume, because it never saw the ack, comes
/// with a new number but the same client id: it is recognised by that id and not written twice.
/// A value: `SessionMachine` owns one per chat and the tests drive it alone.
struct Inbox: Equatable {
    enum Step: Equatable {
        case none
        /// Read the buffer for everything after `delivered`.
        case fetch
        /// The same, a little later: the gap is not in the buffer yet (its write may still be on
        /// the way).
        case fetchLater
    }

    /// Fetches in a row that find the gap still open before it is given up (then counted lost):
    /// with `retryDelay` between them, longer than a stalled store takes to fail a write
    /// (REDIS_TIMEOUT), so a message still on its way to the buffer is not given up on.
    static let maxFruitlessFetches = 100
    static let retryDelay: Duration = .milliseconds(50)
    /// Client ids remembered: a resend comes right after the resume, behind at most what its
    /// sender had not seen acked.
    static let recentClientIDs = 64

    /// The highest sequence number written to the client; everything before it was written too.
    private(set) var delivered: Int
    /// Arrived ahead of a gap, or while a fetch runs: ordered by sequence number, no duplicates.
    private(set) var held: [StoredMessage] = []
    /// A fetch is running: live messages wait for it, so none overtakes what it brings.
    private(set) var fetching = false
    /// The highest sequence number known to exist.
    private(set) var known: Int
    private(set) var fruitlessFetches = 0
    /// Hashes of the last client ids written, oldest overwritten first; empty until one arrives.
    private var recent: [UInt32] = []
    private var recentNext = 0

    init(delivered: Int = 0) {
        self.delivered = delivered
        known = delivered
    }

    /// A message from the partner, live.
    mutating func receive(_ message: StoredMessage) -> (deliver: SmallList<StoredMessage>, step: Step) {
        guard message.seq > delivered else { return (SmallList(), .none) }
        known = max(known, message.seq)
        if !fetching && held.isEmpty && message.seq == delivered + 1 {
            delivered = message.seq
            return (isResend(message) ? SmallList() : SmallList(message), .none)
        }
        hold(message)
        guard !fetching else { return (SmallList(), .none) }
        let out = drain()
        guard !held.isEmpty else { return (out, .none) }
        fetching = true
        return (out, .fetch)
    }

    /// What the buffer held after `delivered` when asked. `bufferFull` says it held as many as it
    /// keeps, so a gap before the oldest of them was trimmed away and will never arrive: it is
    /// given up on at once rather than after `maxFruitlessFetches`.
    /// - Returns: what to write now, what to do next, and how many messages were given up on.
    mutating func fetched(_ messages: [StoredMessage], bufferFull: Bool = false) -> (deliver: SmallList<StoredMessage>, step: Step, skipped: Int) {
        fetching = false
        let oldestKept = messages.lazy.map(\.seq).min()
        for message in messages where message.seq > delivered {
            hold(message)
            known = max(known, message.seq)
        }
        var out = drain()
        guard !held.isEmpty || delivered < known else {
            fruitlessFetches = 0
            return (out, .none, 0)
        }
        fruitlessFetches += 1
        let trimmedAway = bufferFull && oldestKept != nil && oldestKept == held.first?.seq
        guard fruitlessFetches > Self.maxFruitlessFetches || trimmedAway else {
            fetching = true
            return (out, .fetchLater, 0)
        }
        // The gap never reached the buffer: skip it rather than stall the chat.
        fruitlessFetches = 0
        let resumeAt = (held.first?.seq ?? known + 1) - 1
        let skipped = resumeAt - delivered
        delivered = resumeAt
        out.append(contentsOf: drain())
        return (out, .none, skipped)
    }

    /// A fetch failed (the buffer is unreachable): try again later.
    mutating func fetchFailed() -> Step {
        fetching = true
        return .fetchLater
    }

    /// The partner's server says messages up to `seq` exist (after it reconnected, or its user
    /// resumed): fetch what is missing.
    mutating func sync(upTo seq: Int) -> Step {
        guard seq > delivered else { return .none }
        known = max(known, seq)
        return catchUp()
    }

    /// Messages may have been missed (a resume, the bus back after an outage): read the buffer.
    mutating func catchUp() -> Step {
        guard !fetching else { return .none }
        fetching = true
        return .fetch
    }

    /// Whether a message with this client id was written already; remembers it otherwise.
    private mutating func isResend(_ message: StoredMessage) -> Bool {
        guard let id = message.clientID else { return false }
        let hash = UInt32(truncatingIfNeeded: id.hashValue)
        if recent.contains(hash) { return true }
        if recent.count < Self.recentClientIDs {
            recent.append(hash)
        } else {
            recent[recentNext] = hash
            recentNext = (recentNext + 1) % Self.recentClientIDs
        }
        return false
    }

    private mutating func hold(_ message: StoredMessage) {
        guard message.seq > delivered else { return }
        // Usually appended at the end: messages mostly come in order.
        var index = held.endIndex
        while index > held.startIndex, held[index - 1].seq >= message.seq {
            if held[index - 1].seq == message.seq { return }
            index -= 1
        }
        held.insert(message, at: index)
    }

    private mutating func drain() -> SmallList<StoredMessage> {
        var out = SmallList<StoredMessage>()
        var taken = 0
        for message in held {
            if message.seq <= delivered {
                taken += 1
            } else if message.seq == delivered + 1 {
                delivered = message.seq
                if !isResend(message) { out.append(message) }
                taken += 1
            } else {
                break
            }
        }
        held.removeFirst(taken)
        return out
    }
}
