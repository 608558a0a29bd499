import Foundation
import NIOCore
import NIOHTTP1
import OpsKit

/// Why a request to /ws was not upgraded: the route handler answers it with the matching status.
enum UpgradeRefusal: Sendable, Equatable {
    case rejected(ChatHub.Rejection)
    /// Not a valid opening handshake (RFC 6455 section 4.2.1): 400.
    case badHandshake(String)
    /// A WebSocket version other than 13: 426 with `Sec-WebSocket-Version: 13`.
    case unsupportedVersion
}

/// The server side of the WebSocket opening handshake on /ws (RFC 6455 section 4.2): checks the
/// request, asks the hub whether to admit the client, answers with the accept value, and leaves
/// one handler on the channel, `WebSocketChatHandler`. NIO's own upgrader would add its frame
/// decoder, encoder and error handler (three handlers and a buffer per connection) and checks
/// fewer of the RFC's rules than the frame parser here does.
final class ChatUpgrader: HTTPServerProtocolUpgrader, Sendable {
    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []

    private let hub: ChatHub
    private let heartbeat: HeartbeatRegistry
    private let clientIP: @Sendable (Channel, HTTPRequestHead) -> String
    /// Set when a request is refused, for the route handler on the same channel.
    private let refusal: NIOLoopBoundBox<UpgradeRefusal?>

    init(
        hub: ChatHub, heartbeat: HeartbeatRegistry, refusal: NIOLoopBoundBox<UpgradeRefusal?>,
        clientIP: @escaping @Sendable (Channel, HTTPRequestHead) -> String
    ) {
        self.hub = hub
        self.heartbeat = heartbeat
        self.refusal = refusal
        self.clientIP = clientIP
    }

    struct Declined: Error {}

    func buildUpgradeResponse(channel: Channel, upgradeRequest head: HTTPRequestHead, initialResponseHeaders: HTTPHeaders)
        -> EventLoopFuture<HTTPHeaders>
    {
        if let problem = Self.handshakeProblem(head) {
            refusal.value = problem
            return channel.eventLoop.makeFailedFuture(Declined())
        }
        let ip = clientIP(channel, head)
        if let rejection = hub.admission(ip: ip) {
            refusal.value = .rejected(rejection)
            return channel.eventLoop.makeFailedFuture(Declined())
        }
        let key = head.headers["Sec-WebSocket-Key"].first ?? ""
        // The request is complete: whatever follows (the upgrade, or a refusal that closes the
        // connection) is up to the server, and READ_TIMEOUT must not cut it short while the ban
        // check runs.
        try? channel.pipeline.syncOperations.removeHandler(name: ReadTimeoutHandler.name).whenComplete { _ in }
        let promise = channel.eventLoop.makePromise(of: Bool.self)
        let hub = self.hub
        promise.completeWithTask { await hub.isBanned(ip: ip) }
        let refusal = self.refusal
        return promise.futureResult.flatMapThrowing { banned in
            if banned {
                refusal.value = .rejected(.banned)
                throw Declined()
            }
            var headers = initialResponseHeaders
            headers.replaceOrAdd(name: "Upgrade", value: "websocket")
            headers.replaceOrAdd(name: "Connection", value: "Upgrade")
            headers.add(name: "Sec-WebSocket-Accept", value: WebSocketHandshake.acceptValue(forKey: key))
            return headers
        }
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest head: HTTPRequestHead) -> EventLoopFuture<Void> {
        let handler = WebSocketChatHandler(
            hub: hub, heartbeat: heartbeat, ip: clientIP(context.channel, head), resume: ResumeRequest(uri: head.uri), eventLoop: context.eventLoop)
        return context.eventLoop.makeCompletedFuture { try context.pipeline.syncOperations.addHandler(handler) }
    }

    /// What makes `head` no valid opening handshake for /ws, if anything.
    static func handshakeProblem(_ head: HTTPRequestHead) -> UpgradeRefusal? {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard path == "/ws" else { return .badHandshake("no WebSocket endpoint at \(path.prefix(64))") }
        guard head.method == .GET else { return .badHandshake("the opening handshake must be a GET") }
        guard (head.version.major, head.version.minor) >= (1, 1) else {
            return .badHandshake("the opening handshake needs HTTP/1.1")
        }
        let versions = head.headers["Sec-WebSocket-Version"]
        guard versions.count == 1, versions.first?.trimmingCharacters(in: .whitespaces) == "13" else { return .unsupportedVersion }
        let keys = head.headers["Sec-WebSocket-Key"]
        guard keys.count == 1, let key = keys.first, WebSocketHandshake.isValidKey(key) else {
            return .badHandshake("Sec-WebSocket-Key must be 16 bytes in base64")
        }
        return nil
    }
}
