import NIOCore

/// What a write to a resume buffer carries besides the message: trimming it back to
/// RESUME_BUFFER entries and renewing its expiry. Neither is needed on every message, and each
/// costs a Redis command, so a sender does them now and then (`BufferUpkeepSchedule`).
struct BufferUpkeep: Equatable, Sendable {
    var trim: Bool
    var renewExpiry: Bool

    static let all = BufferUpkeep(trim: true, renewExpiry: true)
    static let none = BufferUpkeep(trim: false, renewExpiry: false)
}

/// When the sender's writes to its partner's resume buffer trim it and renew its expiry.
///
/// The first write of a connection to a partner does both, so a buffer left long by an earlier
/// connection is cut at once; then trimming comes every `trimEvery` writes, so a buffer never holds
/// more than RESUME_BUFFER + `trimEvery` entries (readers take only the newest RESUME_BUFFER), and
/// the expiry is renewed once `renewAfter` has passed, far inside the buffer's TTL, so it never
/// lapses while a chat is going.
struct BufferUpkeepSchedule {
    static let trimEvery = 32
    static let renewAfter: TimeAmount = .seconds(60)

    private var partner: String?
    private var writesSinceTrim = 0
    private var renewedAt = NIODeadline.distantPast

    /// The upkeep for the next write to `partner`'s buffer.
    mutating func next(for partner: String, now: NIODeadline = .now()) -> BufferUpkeep {
        if partner != self.partner {
            self.partner = partner
            writesSinceTrim = 0
            renewedAt = .distantPast
        }
        let trim = writesSinceTrim == 0
        writesSinceTrim = (writesSinceTrim + 1) % Self.trimEvery
        let renew = now - renewedAt >= Self.renewAfter
        if renew { renewedAt = now }
        return BufferUpkeep(trim: trim, renewExpiry: renew)
    }
}
