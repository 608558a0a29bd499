import Foundation
import OpsKit

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

    /// The current window, in wall-clock terms, to carry to another connection or instance.
    func counters(now: ContinuousClock.Instant = .now, wallClockMs: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> RateCounters? {
        guard let start = windowStart, now - start < RateLimiter.window else { return nil }
        return RateCounters(windowStartMs: wallClockMs - (now - start).milliseconds, messages: messages, bytes: bytes)
    }

    /// Continues a window counted on an earlier connection of the session, so reconnecting does
    /// not reset the limit.
    mutating func restore(_ counters: RateCounters, now: ContinuousClock.Instant = .now, wallClockMs: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) {
        // The counters come from the session store: refuse nonsense instead of trapping on it.
        let (ageMs, overflow) = wallClockMs.subtractingReportingOverflow(counters.windowStartMs)
        let plausible = 0...Int(Int32.max)
        guard !overflow, plausible.contains(counters.messages), plausible.contains(counters.bytes) else { return }
        let age = Duration.milliseconds(max(0, ageMs))
        guard age < RateLimiter.window else { return }
        windowStart = now - age
        messages = counters.messages
        bytes = counters.bytes
        drops = 0
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

/// A rate-limit window as a session keeps it between connections (in Redis across instances).
struct RateCounters: Sendable, Equatable {
    var windowStartMs: Int64
    var messages: Int
    var bytes: Int
}
