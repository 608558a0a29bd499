/// Delays between reconnection attempts: doubling from `minimum` to `maximum`, each with ±20%
/// jitter so a fleet that lost its server at the same moment does not come back in step.
public struct ReconnectBackoff: Sendable {
    public var minimum: Duration
    public var maximum: Duration
    private var attempt = 0

    public init(minimum: Duration, maximum: Duration) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// The delay before the next attempt.
    public mutating func next() -> Duration {
        attempt += 1
        let base = min(Double(maximum.totalNanoseconds), Double(minimum.totalNanoseconds) * Double(1 << min(attempt - 1, 20)))
        return .nanoseconds(Int64(base * Double.random(in: 0.8...1.2)))
    }

    /// A connection succeeded: start again from `minimum`.
    public mutating func reset() { attempt = 0 }
}
