import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// HAProxy's runtime API (the `stats socket`): one command per connection, the answer read to the
/// end, over a unix socket (`/run/haproxy/admin.sock`, `unix@/...`) or TCP (`ipv4@host:port`,
/// `host:port`). Setting a server's state needs `level admin`.
public struct HAProxyRuntimeAPI: Sendable {
    public enum Address: Sendable, Equatable, CustomStringConvertible {
        case unixSocket(String)
        case tcp(host: String, port: Int)

        public var description: String {
            switch self {
            case .unixSocket(let path): return path
            case .tcp(let host, let port): return "\(host):\(port)"
            }
        }
    }

    public let address: Address
    public var timeout: Duration

    public init(address: Address, timeout: Duration = .seconds(2)) {
        self.address = address
        self.timeout = timeout
    }

    /// The forms the inventory's `haproxy.runtime_api` takes.
    public init(parsing text: String, timeout: Duration = .seconds(2)) throws {
        let trimmed = text.trimmingCharacters(in: [" ", "\t"])
        if trimmed.hasPrefix("/") {
            address = .unixSocket(trimmed)
        } else if trimmed.hasPrefix("unix@") {
            address = .unixSocket(String(trimmed.dropFirst(5)))
        } else {
            let hostPort = trimmed.hasPrefix("ipv4@") ? String(trimmed.dropFirst(5)) : trimmed
            let (host, port) = try HostPort.split(hostPort, defaultPort: nil, what: "runtime API address")
            address = .tcp(host: host, port: port)
        }
        self.timeout = timeout
    }

    /// Sends one command and returns HAProxy's whole answer.
    /// - Throws: `OpsError` naming the socket when it cannot be reached or answers too slowly,
    ///   and when HAProxy refuses the command (an answer starting with "Unknown command", a
    ///   permission error, "No such server").
    public func execute(_ command: String) async throws -> String {
        let endpoint = "haproxy runtime API \(address)"
        let collected = AnswerCollector()
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout.timeAmount)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collected.handler) }
            }
        let channel: Channel
        do {
            switch address {
            case .unixSocket(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
            }
        } catch {
            throw OpsError(.connectionRefused, "cannot connect (\(error))", endpoint: endpoint)
        }
        let timedOut = NIOLockedValueBox(false)
        let deadline = channel.eventLoop.scheduleTask(in: timeout.timeAmount) {
            timedOut.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        try await channel.writeAndFlush(channel.allocator.buffer(string: command + "\n"))
        // HAProxy closes after answering; the deadline closes it otherwise, and the answer (or none) is judged below.
        try? await channel.closeFuture.get()
        guard !timedOut.withLockedValue({ $0 }), let answer = collected.text else {
            throw OpsError.timedOut(after: timeout, endpoint: endpoint)
        }
        let refusals = ["Unknown command", "Permission denied", "No such server", "No such backend", "Require 'backend/server'", "unknown state"]
        if let refusal = refusals.first(where: { answer.contains($0) }) {
            throw OpsError(.serverError, "refused '\(command)': \(answer.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200)) (\(refusal))", endpoint: endpoint)
        }
        return answer
    }

    /// `set server BACKEND/SERVER state ready|drain|maint`.
    public func setState(_ state: String, server: String, backend: String) async throws {
        _ = try await execute("set server \(backend)/\(server) state \(state)")
    }
}

/// Gathers a connection's bytes until the peer closes it.
private final class AnswerCollector: Sendable {
    private let box = NIOLockedValueBox<[UInt8]>([])

    var text: String? { box.withLockedValue { String(decoding: $0, as: UTF8.self) } }

    var handler: Handler { Handler(collector: self) }

    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let collector: AnswerCollector

        init(collector: AnswerCollector) { self.collector = collector }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            collector.box.withLockedValue { $0 += buffer.readableBytesView }
        }

    }
}
