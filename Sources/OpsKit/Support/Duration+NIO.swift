import NIOCore

extension Duration {
    /// The whole duration in nanoseconds (saturating).
    var totalNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product &+ attoseconds / 1_000_000_000
    }

    /// The same span as NIO's `TimeAmount`, for scheduling on event loops.
    public var timeAmount: TimeAmount { .nanoseconds(totalNanoseconds) }
}
