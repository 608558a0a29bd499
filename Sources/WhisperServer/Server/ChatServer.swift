import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import ServiceLifecycle

/// The listening server as a lifecycle `Service`: serves until graceful shutdown, then drains.
struct ChatServer: Service {
    static let version = "0.1.0"

    let configuration: ServerConfiguration
    let hub: ChatHub
    let group: MultiThreadedEventLoopGroup
    let logger: Logger

    func run() async throws {
        let heartbeats = group.makeIterator().map { loop in
            HeartbeatRegistry(eventLoop: loop, interval: configuration.heartbeatInterval, grace: configuration.heartbeatGrace)
        }
        let hub = self.hub
        let maxFrame = 4096
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Beyond 64 KiB queued for one client the channel turns unwritable; WRITE_TIMEOUT
            // later a client that still does not read is closed (WebSocketChatHandler).
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 16 * 1024, high: 64 * 1024))
            // Receive buffers never shrink: a small ceiling keeps idle connections cheap (docs/memory.md).
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: maxFrame))
            .childChannelInitializer { channel in
                let heartbeat = heartbeats.first { $0.isOn(channel.eventLoop) }!
                let configuration = self.configuration
                // Why the upgrader declined, so the route handler answers with the right status.
                let decision = NIOLoopBoundBox<ChatHub.Rejection?>(nil, eventLoop: channel.eventLoop)
                @Sendable func clientIP(_ channel: Channel, _ head: HTTPRequestHead) -> String {
                    ClientAddress.resolve(
                        peer: channel.remoteAddress?.ipAddress ?? "unknown", forwardedFor: head.headers["X-Forwarded-For"],
                        trusted: configuration.trustedProxies)
                }
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: maxFrame, automaticErrorHandling: true,
                    shouldUpgrade: { channel, head in
                        let path = head.uri.split(separator: "?", maxSplits: 1).first ?? ""
                        guard path == "/ws" else { return channel.eventLoop.makeSucceededFuture(nil) }
                        let ip = clientIP(channel, head)
                        if let rejection = hub.admission(ip: ip) {
                            decision.value = rejection
                            return channel.eventLoop.makeSucceededFuture(nil)
                        }
                        let promise = channel.eventLoop.makePromise(of: Bool.self)
                        promise.completeWithTask { await hub.isBanned(ip: ip) }
                        return promise.futureResult.map { banned in
                            if banned { decision.value = .banned }
                            return banned ? nil : HTTPHeaders()
                        }
                    },
                    upgradePipelineHandler: { channel, head in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                NIOWebSocketFrameAggregator(
                                    minNonFinalFragmentSize: 1, maxAccumulatedFrameCount: 64, maxAccumulatedFrameSize: maxFrame))
                            try channel.pipeline.syncOperations.addHandler(
                                WebSocketChatHandler(hub: hub, heartbeat: heartbeat, ip: clientIP(channel, head), resume: ResumeRequest(uri: head.uri)))
                        }
                    })
                return channel.eventLoop.makeCompletedFuture {
                    let routes = HTTPRouteHandler(hub: hub, version: ChatServer.version, decision: decision)
                    try channel.pipeline.syncOperations.addHandler(
                        ReadTimeoutHandler(timeout: configuration.readTimeout.timeAmount), name: ReadTimeoutHandler.name)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.removeHandler(name: HTTPRouteHandler.name, promise: nil)
                            context.pipeline.removeHandler(name: ReadTimeoutHandler.name, promise: nil)
                        }))
                    try channel.pipeline.syncOperations.addHandler(routes, name: HTTPRouteHandler.name)
                }
            }
            .bind(host: configuration.host, port: configuration.port).get()
        let port = channel.localAddress?.port ?? configuration.port
        logger.info("server.listening", metadata: ["port": "\(port)", "server": "\(configuration.serverName)"])

        let sweeper = Task {
            var ticks = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                hub.sweepQueue()
                ticks += 1
                if ticks % 8 == 0 { await hub.checkRemotePartners() }
            }
        }
        defer {
            sweeper.cancel()
            heartbeats.forEach { $0.cancel() }
        }
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            Task { await Drain(hub: hub, configuration: configuration, logger: logger).run(closing: channel) }
        }
    }
}


extension ChatServer: CustomStringConvertible {
    /// What the service group logs: never the configuration, which holds credentials.
    var description: String { "ChatServer(\(configuration.serverName), port \(configuration.port))" }
}
