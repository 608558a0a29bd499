import Logging
import OpsKit
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The listening server as a lifecycle `Service`: serves until graceful shutdown, then drains.
struct ChatServer: Service {
    static let version = BuildInfo.version

    let configuration: ServerConfiguration
    let hub: ChatHub
    let group: MultiThreadedEventLoopGroup
    let logger: Logger
    /// Told the bound port once the listener is up (port 0 binds a free one).
    var listening: (@Sendable (Int) -> Void)? = nil

    func run() async throws {
        let heartbeats = group.makeIterator().map { loop in
            HeartbeatRegistry(eventLoop: loop, interval: configuration.heartbeatInterval, grace: configuration.heartbeatGrace)
        }
        let hub = self.hub
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Beyond 64 KiB queued for one client the channel turns unwritable; WRITE_TIMEOUT
            // later a client that still does not read is closed (WebSocketChatHandler).
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 16 * 1024, high: 64 * 1024))
            // Receive buffers never shrink: a small ceiling keeps idle connections cheap (docs/memory.md).
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: WebSocketChatHandler.maxMessageSize))
            .childChannelInitializer { channel in
                let heartbeat = heartbeats.first { $0.isOn(channel.eventLoop) }!
                return channel.eventLoop.makeCompletedFuture {
                    try ChatPipeline.configure(channel, hub: hub, heartbeat: heartbeat)
                }
            }
            .bind(host: configuration.host, port: configuration.port).get()
        let port = channel.localAddress?.port ?? configuration.port
        logger.info("server.listening", metadata: ["port": "\(port)", "server": "\(configuration.serverName)"])
        listening?(port)

        // The crash check and the drain are children of this service: they end with it.
        defer { heartbeats.forEach { $0.cancel() } }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(2))
                    await hub.checkRemotePartners()
                }
            }
            group.addTask {
                // Returns when the group asks the service to stop (SIGTERM, SIGINT).
                guard (try? await gracefulShutdown()) != nil else { return }
                await Drain(hub: hub, configuration: configuration, logger: logger).run(closing: channel)
            }
            // The drain closes the listener once the last client is gone (or at DRAIN_TIMEOUT).
            try await channel.closeFuture.get()
            group.cancelAll()
        }
    }
}


extension ChatServer: CustomStringConvertible {
    /// What the service group logs: never the configuration, which holds credentials.
    var description: String { "ChatServer(\(configuration.serverName), port \(configuration.port))" }
}
