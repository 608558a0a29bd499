import NIOCore
import NIOHTTP1

/// The handlers of an accepted connection: the read timeout and HTTP codec, the upgrade to a
/// WebSocket on /ws, and the plain routes. After an upgrade only `WebSocketChatHandler` remains.
enum ChatPipeline {
    static func configure(_ channel: Channel, hub: ChatHub, heartbeat: HeartbeatRegistry) throws {
        let configuration = hub.configuration
        // Why the upgrader declined, so the route handler answers with the right status.
        let refusal = NIOLoopBoundBox<UpgradeRefusal?>(nil, eventLoop: channel.eventLoop)
        let upgrader = ChatUpgrader(hub: hub, heartbeat: heartbeat, refusal: refusal) { channel, head in
            ClientAddress.resolve(
                peer: channel.remoteAddress?.ipAddress ?? "unknown", forwardedFor: head.headers["X-Forwarded-For"],
                trusted: configuration.trustedProxies)
        }
        let routes = HTTPRouteHandler(hub: hub, version: configuration.releaseVersion, refusal: refusal)
        let operations = channel.pipeline.syncOperations
        try operations.addHandler(ReadTimeoutHandler(timeout: configuration.readTimeout.timeAmount), name: ReadTimeoutHandler.name)
        try operations.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                context.pipeline.removeHandler(name: HTTPRouteHandler.name, promise: nil)
                context.pipeline.removeHandler(name: ReadTimeoutHandler.name, promise: nil)
            }))
        try operations.addHandler(routes, name: HTTPRouteHandler.name)
    }
}
