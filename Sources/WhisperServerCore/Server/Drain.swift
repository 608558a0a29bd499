import Logging
import NIOCore
import OpsKit

/// The lame-duck drain: stop being ready, give the load balancer time to notice, then evict
/// clients evenly over DRAIN_SPREAD so the rest of the fleet absorbs them without a storm.
struct Drain {
    let hub: ChatHub
    let configuration: ServerConfiguration
    let logger: Logger

    func run(closing listener: Channel) async {
        let deadline = ContinuousClock.now + configuration.drainTimeout
        hub.draining = true
        logger.info("drain.started", metadata: ["connections": "\(hub.connectionCount)"])
        try? await Task.sleep(for: min(configuration.drainGrace, configuration.drainTimeout))

        let connections = hub.allSessions
        let tick: Duration = .milliseconds(10)
        let ticks = max(1, Int(configuration.drainSpread / tick))
        let perTick = max(1, (connections.count + ticks - 1) / ticks)
        var generator = SystemRandomNumberGenerator()
        for batch in stride(from: 0, to: connections.count, by: perTick) {
            guard ContinuousClock.now < deadline else { break }
            for connection in connections[batch..<min(batch + perTick, connections.count)] {
                connection.evict(reconnectInMs: Int(generator.next(upperBound: UInt32(1000))))
            }
            try? await Task.sleep(for: tick)
        }
        // Until every client is gone and its departure recorded (the partner told, the session
        // kept for its resume elsewhere).
        while (hub.connectionCount > 0 || hub.jobs.inProgress > 0) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        logger.info("drain.finished", metadata: ["remaining": "\(hub.connectionCount)"])
        // Already closed when the drain began with no listener left: nothing to report.
        try? await listener.close()
    }
}
