/// Counts a connection's messages and bytes per 10-second window.
struct RateLimiter {
    enum Verdict: Equatable {
        case allow
        /// Over the limit: drop the frame and tell the client.
        case limit
        /// Kept going after being told: close with 1008.
        case close
    }

    static let window: Duration = .seconds(10)
    /// Frames dropped in one window before the connection is closed.
    static let toleratedDrops = 10

    let maxMessages: Int
    let maxBytes: Int
    private var windowStart: ContinuousClock.Instant?
    private var messages = 0
    private var bytes = 0
    private var drops = 0

    init(maxMessages: Int, maxBytes: Int) {
        self.maxMessages = maxMessages
        self.maxBytes = maxBytes
    }

    mutating func record(bytes size: Int, at now: ContinuousClock.Instant) -> Verdict {
        if let start = windowStart, now - start < RateLimiter.window {
            messages += 1
            bytes += size
        } else {
            windowStart = now
            messages = 1
            bytes = size
            drops = 0
        }
        guard messages > maxMessages || bytes > maxBytes else { return .allow }
        drops += 1
        return drops > RateLimiter.toleratedDrops ? .close : .limit
    }
}
