import Logging
import NIOCore
import OpsKit

/// One instance's logic without a listening socket: a hub on embedded state and the pipeline an
/// accepted connection gets, for driving connections on test channels (the fuzz targets do).
package final class ConnectionHarness: Sendable {
    let hub: ChatHub
    let heartbeat: HeartbeatRegistry

    /// - Parameter environment: the server's variables, as `whisper-server` reads them.
    package init(eventLoop: EventLoop, environment: [String: String] = [:]) throws {
        let configuration = try ServerConfiguration.fromEnvironment(environment)
        let logger = Logger(label: "whisper-harness", factory: { _ in SwiftLogNoOpLogHandler() })
        let jobs = BackendJobs()
        _ = jobs.runDetached()
        hub = ChatHub(
            configuration: configuration, metrics: ServerMetrics(), moderation: Moderation(), reports: InMemoryReportStore(),
            backend: EmbeddedBackend(configuration: configuration), jobs: jobs, logger: logger)
        heartbeat = HeartbeatRegistry(eventLoop: eventLoop, interval: configuration.heartbeatInterval, grace: configuration.heartbeatGrace)
    }

    /// Sets `channel` up as the server sets up an accepted connection: HTTP first.
    package func configure(_ channel: Channel) throws {
        try ChatPipeline.configure(channel, hub: hub, heartbeat: heartbeat)
    }

    /// Sets `channel` up as a connection whose upgrade to `uri` already succeeded.
    package func configureUpgraded(_ channel: Channel, uri: String, ip: String) throws {
        try channel.pipeline.syncOperations.addHandler(
            WebSocketChatHandler(hub: hub, heartbeat: heartbeat, ip: ip, resume: ResumeRequest(uri: uri), eventLoop: channel.eventLoop))
    }

    /// Connections the hub still counts.
    package var connectionCount: Int { hub.connectionCount }
}
