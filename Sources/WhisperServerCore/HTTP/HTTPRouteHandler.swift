import NIOCore
import NIOHTTP1
import OpsKit

/// Answers the plain HTTP routes: /health, /ready, /live, /metrics, and /ws requests the
/// WebSocket upgrader declined (with the reason's status code).
final class HTTPRouteHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    static let name = "whisper.routes"

    private let hub: ChatHub
    private let version: String
    private let refusal: NIOLoopBoundBox<UpgradeRefusal?>
    private var head: HTTPRequestHead?

    init(hub: ChatHub, version: String, refusal: NIOLoopBoundBox<UpgradeRefusal?>) {
        self.hub = hub
        self.version = version
        self.refusal = refusal
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
        guard head.method == .GET || head.method == .HEAD else {
            return write(.methodNotAllowed, "method not allowed\n", contentType: "text/plain", head: head, context: context)
        }
        switch path {
        case "/live":
            write(.ok, #"{"status":"alive"}"#, head: head, context: context)
        case "/ready":
            let ready = hub.isReady
            let failing = hub.backend.checks.filter { $0.status == .down }.map(\.name)
            let body = ready ? #"{"ready":true}"# : JSONValue.object([
                ("ready", .bool(false)), ("draining", .bool(hub.draining)), ("failing", .array(failing.map(JSONValue.string))),
            ]).serialized()
            write(ready ? .ok : .serviceUnavailable, body, head: head, context: context)
        case "/health":
            let checks = hub.backend.checks + [hub.reports.check]
            let status = checks.contains { $0.status == .down } ? "unhealthy" : checks.contains { $0.status == .degraded } ? "degraded" : "healthy"
            let body = JSONValue.object([
                ("status", .string(status)), ("server", .string(hub.configuration.serverName)),
                ("version", .string(version)),
                ("uptime_seconds", .int(Int(-hub.metrics.startTime.timeIntervalSinceNow))),
                ("connections", .int(hub.connectionCount)), ("max_connections", .int(hub.configuration.maxConnections)),
                ("draining", .bool(hub.draining)),
                ("checks", .object(checks.map { check in
                    (check.name, .string(check.status.rawValue + (check.detail.map { ": \($0)" } ?? "")))
                })),
            ])
            write(status == "unhealthy" ? .serviceUnavailable : .ok, body.serialized(), head: head, context: context)
        case "/metrics":
            let text = hub.metrics.render(queueSize: hub.queueSize, activeChats: hub.activeChats)
            write(.ok, text, contentType: "text/plain; version=0.0.4; charset=utf-8", head: head, context: context)
        case "/ws":
            // NIO upgrades only the first request of a connection: one on a reused keep-alive
            // connection never met the upgrader, and is judged here the same way.
            let ip = context.channel.remoteAddress?.ipAddress ?? "unknown"
            let refused = refusal.value ?? ChatUpgrader.handshakeProblem(head) ?? hub.admission(ip: ip).map(UpgradeRefusal.rejected)
            refusal.value = nil
            switch refused {
            case .rejected(let rejection):
                hub.metrics.rejectConnection(reason: rejection.rawValue)
                let status: HTTPResponseStatus =
                    switch rejection {
                    case .perIP: .tooManyRequests
                    case .banned: .forbidden
                    default: .serviceUnavailable
                    }
                write(status, #"{"error":"\#(rejection.rawValue)"}"#, head: head, context: context, close: true)
            case .badHandshake(let problem):
                hub.metrics.rejectConnection(reason: "bad_handshake")
                write(.badRequest, JSONValue.object([("error", .string(problem))]).serialized(), head: head, context: context, close: true)
            case .unsupportedVersion:
                hub.metrics.rejectConnection(reason: "bad_handshake")
                write(
                    .upgradeRequired, #"{"error":"only WebSocket version 13 is supported"}"#, head: head, context: context, close: true,
                    extraHeaders: [("Sec-WebSocket-Version", "13")])
            case nil:
                write(
                    .upgradeRequired, #"{"error":"expected a WebSocket upgrade as the first request of a connection"}"#, head: head,
                    context: context, close: true)
            }
        default:
            write(.notFound, #"{"error":"not found"}"#, head: head, context: context)
        }
    }

    private func write(
        _ status: HTTPResponseStatus, _ body: String, contentType: String = "application/json",
        head: HTTPRequestHead, context: ChannelHandlerContext, close: Bool = false, extraHeaders: [(String, String)] = []
    ) {
        var headers = HTTPHeaders(extraHeaders)
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Cache-Control", value: "no-store")
        // A refused upgrade closes: the upgrade machinery is done with this connection.
        let keepAlive = head.isKeepAlive && !close
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
