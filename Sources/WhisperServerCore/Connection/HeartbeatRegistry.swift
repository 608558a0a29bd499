import NIOCore

/// The connections of one event loop, pinged and checked by one repeating task per loop instead
/// of a timer per connection.
///
/// Only its event loop touches `members`: handlers add and remove themselves from their own loop,
/// and the tick runs there. Hence `@unchecked Sendable`.
final class HeartbeatRegistry: @unchecked Sendable {
    private let eventLoop: EventLoop
    private var members: [ObjectIdentifier: (handler: WebSocketChatHandler, channel: Channel)] = [:]
    private var task: RepeatedTask?

    init(eventLoop: EventLoop, interval: Duration, grace: Duration) {
        self.eventLoop = eventLoop
        let intervalAmount = TimeAmount(interval)
        let graceAmount = TimeAmount(grace)
        // Ticks at the finer of the two, so a silent peer is closed within interval + grace.
        let tick = TimeAmount.nanoseconds(max(min(intervalAmount.nanoseconds, graceAmount.nanoseconds) / 2, 50_000_000))
        task = eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { [unowned self] _ in
            let now = NIODeadline.now()
            for member in self.members.values {
                member.handler.heartbeatTick(now: now, interval: intervalAmount, grace: graceAmount, channel: member.channel)
            }
        }
    }

    func add(_ handler: WebSocketChatHandler, channel: Channel) {
        eventLoop.preconditionInEventLoop()
        members[ObjectIdentifier(handler)] = (handler, channel)
    }

    func remove(_ handler: WebSocketChatHandler) {
        eventLoop.preconditionInEventLoop()
        members[ObjectIdentifier(handler)] = nil
    }

    func cancel() { task?.cancel() }

    func isOn(_ loop: EventLoop) -> Bool { loop === eventLoop }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
