import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small real HTTP server answering fixed responses per path, standing in for whisper-server's
/// /health and /ready endpoints, which tests change while it runs.
package final class FixtureHTTPServer: StoppableService {
    package struct Response: Sendable {
        package var status: Int
        package var body: String
        package var contentType: String

        package init(status: Int = 200, body: String = "", contentType: String = "application/json") {
            self.status = status
            self.body = body
            self.contentType = contentType
        }
    }

    package let port: Int
    private let channel: Channel
    private let group: MultiThreadedEventLoopGroup
    private let routes: NIOLockedValueBox<[String: Response]>

    package var url: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, channel: Channel, group: MultiThreadedEventLoopGroup, routes: NIOLockedValueBox<[String: Response]>) {
        self.port = port
        self.channel = channel
        self.group = group
        self.routes = routes
    }

    /// A healthy whisper-server's endpoints.
    package static func healthyServerRoutes(connections: Int = 12, version: String = "1.4.2") -> [String: Response] {
        [
            "/health": Response(
                body: #"{"status":"healthy","server":"ws","version":"\#(version)","uptime_seconds":60,"connections":\#(connections),"draining":false,"checks":{"redis":"ok"}}"#
            ),
            "/ready": Response(body: #"{"ready":true}"#),
        ]
    }

    /// - Parameter unixSocket: listen on this unix socket path instead of a loopback port.
    package static func start(routes initial: [String: Response], unixSocket: String? = nil) async throws -> FixtureHTTPServer {
        let routes = NIOLockedValueBox(initial)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(RouteHandler(routes: routes))
                }
            }
        let channel: Channel
        if let unixSocket {
            channel = try await bootstrap.bind(unixDomainSocketPath: unixSocket, cleanupExistingSocketFile: true).get()
        } else {
            channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        }
        return FixtureHTTPServer(port: channel.localAddress?.port ?? 0, channel: channel, group: group, routes: routes)
    }

    package func set(_ path: String, _ response: Response) {
        routes.withLockedValue { $0[path] = response }
    }

    private let stopped = NIOLockedValueBox(false)

    /// Closes the listener and its connections; later calls do nothing.
    package func stop() async {
        let alreadyStopped = stopped.withLockedValue { stopped in
            defer { stopped = true }
            return stopped
        }
        guard !alreadyStopped else { return }
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class RouteHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let routes: NIOLockedValueBox<[String: FixtureHTTPServer.Response]>

    init(routes: NIOLockedValueBox<[String: FixtureHTTPServer.Response]>) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let path = String(head.uri.split(separator: "?").first ?? "")
        let response = routes.withLockedValue { $0[path] } ?? .init(status: 404, body: "not found", contentType: "text/plain")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.utf8.count))
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

/// A TCP port that completes handshakes (the kernel's backlog) but never reads or answers:
/// the shape of a hung process.
package final class BlackHoleServer: StoppableService {
    package let port: Int
    private let fd: Int32

    package var url: String { "http://127.0.0.1:\(port)" }
    package var address: String { "127.0.0.1:\(port)" }

    package init() throws {
        (fd, port) = try FreePort.boundSocket()
        guard listen(fd, 128) == 0 else { throw SupportError("black hole listen failed") }
    }

    package func stop() async { close(fd) }
}
