import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOWebSocket

/// One simulated user across its connections: finds its partner, sends and checks messages, and
/// when its connection ends (a drain's 1012, or a drop) reconnects to the next target and resumes
/// its session, telling the server the last message id it has, then sends again what the server
/// never acked, with the same client ids (the server delivers each once). Messages that arrive
/// after the resume count as delivered, not lost.
///
/// It keeps at most `ackWindow` messages unacknowledged, as a well-behaved chat client does: a
/// server that falls behind slows its senders down through its acks (backpressure the report
/// counts), instead of piling messages up in socket buffers until everything times out.
///
/// Lives on one event loop, like all its state and every connection it opens; `@unchecked
/// Sendable` for that reason.
final class LoadClient: @unchecked Sendable {
    let index: Int
    let interest: String?
    let plan: LoadTestPlan
    let stats: LoopStats
    let progress: NIOLockedValueBox<Progress>
    var eventLoop: EventLoop { stats.eventLoop }
    var isChatting: Bool { interest != nil }

    private var context: ChannelHandlerContext?
    private var target: Int
    private var everConnected = false
    private var matched = false
    private var finished = false
    /// From the server's `draining` (or a close) until the session is back: nothing is sent.
    private var paused = false
    private var reconnectInMs = 0
    private var reconnectAttempts = 0
    /// When the first of the reconnects in a row failed: the resume keeps trying within `resumeBudget`.
    private var reconnectingSince: NIODeadline?
    private var resumeToken: String?
    private var lastMessageID: Int?
    private var nextSequence = 0
    private var expectedSequence = 0
    private var missing = Set<Int>()
    /// Sent and not acked yet, oldest first: sent again after a resume.
    private var unacked = CircularBuffer<(sequence: Int, frame: String)>()
    /// Between a lost connection and the welcome of the resumed session.
    private var resuming = false
    /// When the connection ended, for the resume's latency (what the user waits).
    private var resumeStarted: NIODeadline?
    /// Masking keys from a per-client xorshift generator: a load generator needs masks that
    /// vary, not the system's cryptographic generator on every frame.
    private var masks = XorShiftGenerator(seed: UInt64.random(in: 1...UInt64.max))

    static let messagePrefix = Array(#"{"type":"message","id":"#.utf8)
    static let ackPrefix = Array(#"{"type":"ack""#.utf8)
    static let ackOfOursPrefix = Array(#"{"type":"ack","client_id":"c"#.utf8)
    static let textKey = Array(#""text":""#.utf8)
    /// How long a client keeps trying to resume: the server's default RESUME_WINDOW. A session is
    /// resumable for that long however slow its old or new server is.
    static let resumeBudget: TimeAmount = .seconds(60)
    /// Messages sent and not acknowledged yet, at most: past it, the client waits for acks.
    static let ackWindow = 16

    init(index: Int, interest: String?, plan: LoadTestPlan, stats: LoopStats, progress: NIOLockedValueBox<Progress>) {
        self.index = index
        self.interest = interest
        self.plan = plan
        self.stats = stats
        self.progress = progress
        target = index % plan.targets.count
    }

    // MARK: Connections

    func connect() {
        let destination = plan.targets[target]
        var path = destination.path
        if let resumeToken {
            path += "?resume=\(resumeToken)" + (lastMessageID.map { "&last_id=\($0)" } ?? "")
        }
        let upgraded = eventLoop.makePromise(of: Void.self)
        var bootstrap = ClientBootstrap(group: eventLoop)
        // On loopback every client gets its own source address (any 127.x.y.z works), as real
        // users have: per-IP limits behave as in production and no one address runs out of ports.
        if destination.host.hasPrefix("127."), let source = try? SocketAddress(ipAddress: LoadTestEngine.sourceAddress(index), port: 0) {
            bootstrap = bootstrap.bind(to: source)
        }
        let channelBox = NIOLoopBoundBox<Channel?>(nil, eventLoop: eventLoop)
        // An endpoint that accepts TCP and never answers the upgrade must not hold the run.
        let handshakeDeadline = eventLoop.scheduleTask(in: LoadClient.handshakeTimeout) {
            upgraded.fail(LoadClient.Failure.handshakeTimeout)
            channelBox.value?.close(promise: nil)
        }
        bootstrap
            .connectTimeout(LoadClient.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 1 << 16))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        WebSocketHandshakeHandler(
                            host: destination.host, port: destination.port, path: path, upgraded: upgraded,
                            frameHandler: LoadClientHandler(client: self)))
                }
            }
            .connect(host: destination.host, port: destination.port)
            .flatMap { channel in
                channelBox.value = channel
                return upgraded.futureResult
            }
            .whenComplete { [self] result in
                handshakeDeadline.cancel()
                switch result {
                case .success:
                    reconnectAttempts = 0
                    reconnectingSince = nil
                    if !everConnected {
                        everConnected = true
                        progress.withLockedValue { $0.established += 1 }
                    }
                case .failure(let error):
                    upgraded.fail(OpsError(.io, "connect failed"))
                    if everConnected {
                        retryResume()
                    } else {
                        let reason = LoadClient.describe(error)
                        progress.withLockedValue { progress in
                            progress.failed += 1
                            progress.failures[reason, default: 0] += 1
                            if isChatting { progress.failedChatting += 1 }
                        }
                    }
                }
            }
    }

    static let connectTimeout: TimeAmount = .seconds(5)
    static let handshakeTimeout: TimeAmount = .seconds(5)

    enum Failure: Error { case handshakeTimeout }

    /// A connection failure as the report groups it: "connection refused", "HTTP 429", ...
    static func describe(_ error: Error) -> String {
        if case Failure.handshakeTimeout = error { return "no answer to the upgrade within \(handshakeTimeout.nanoseconds / 1_000_000_000) s" }
        if let error = error as? OpsError, error.message.hasPrefix("HTTP ") { return error.message }
        if let error = error as? OpsError { return error.message }
        let text = "\(error)"
        if text.contains("refused") { return "connection refused" }
        if text.contains("timed out") || text.contains("connectTimeout") { return "connect timed out after \(connectTimeout.nanoseconds / 1_000_000_000) s" }
        return text
    }

    func attached(_ context: ChannelHandlerContext) { self.context = context }

    /// The connection ended. Unless the test is over, come back on the next target and resume.
    func detached() {
        context = nil
        guard !finished, everConnected else { return }
        paused = true
        guard resumeToken != nil else {
            progress.withLockedValue { $0.resumeFailures += 1 }
            return
        }
        if !resuming {
            resuming = true
            progress.withLockedValue { $0.resuming += 1 }
        }
        resumeStarted = resumeStarted ?? .now()
        target = (target + 1) % plan.targets.count
        let delay = reconnectInMs
        reconnectInMs = 0
        eventLoop.scheduleTask(in: .milliseconds(Int64(delay))) { [self] in connect() }
    }

    private func retryResume() {
        reconnectAttempts += 1
        guard !finished else { return }
        let since = reconnectingSince ?? .now()
        reconnectingSince = since
        guard NIODeadline.now() - since < LoadClient.resumeBudget else {
            endResume(succeeded: false)
            return
        }
        target = (target + 1) % plan.targets.count
        eventLoop.scheduleTask(in: .milliseconds(Int64(min(1000, 20 * reconnectAttempts)))) { [self] in connect() }
    }

    /// The session is back, or given up on.
    private func endResume(succeeded: Bool) {
        guard resuming else { return }
        resuming = false
        progress.withLockedValue { progress in
            progress.resuming -= 1
            if !succeeded { progress.resumeFailures += 1 }
        }
    }

    func finish() {
        finished = true
        // Still trying to come back when the run ends: that resume failed.
        endResume(succeeded: false)
        context?.close(promise: nil)
    }

    // MARK: Frames

    func received(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        switch frame.opcode {
        case .text:
            let payload = frame.unmaskedData
            // Relayed messages are the hot path: read them from the bytes without building a String.
            if payload.readableBytesView.starts(with: LoadClient.messagePrefix) {
                recordDelivery(payload)
            } else if payload.readableBytesView.starts(with: LoadClient.ackPrefix) {
                acked(payload)
            } else {
                var copy = payload
                receive(copy.readString(length: copy.readableBytes) ?? "", context: context)
            }
        case .ping:
            write(WebSocketFrame(fin: true, opcode: .pong, maskKey: nextMask(), data: frame.unmaskedData), context: context)
        case .connectionClose:
            // Answer the server's close (RFC 6455), then hang up; `detached` brings the session back.
            paused = true
            var code = frame.unmaskedData
            if let number = code.readInteger(as: UInt16.self) {
                progress.withLockedValue { $0.closeCodes[Int(number), default: 0] += 1 }
            }
            let echo = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: nextMask(), data: frame.unmaskedData)
            context.writeAndFlush(NIOAny(echo)).whenComplete { _ in context.close(promise: nil) }
        default:
            break
        }
    }

    private func receive(_ text: String, context: ChannelHandlerContext) {
        let interesting = [#"{"type":"welcome""#, #"{"type":"matched""#, #"{"type":"draining""#, #"{"type":"error""#]
        guard interesting.contains(where: { text.hasPrefix($0) }), let message = try? JSONValue.parse(Array(text.utf8)) else { return }
        switch message["type"]?.stringValue {
        case "welcome":
            guard resumeToken == nil else {
                // Back after a dropped or drained connection.
                let resumed = message["resumed"] == .bool(true)
                endResume(succeeded: resumed)
                if resumed {
                    let waited = resumeStarted.map { UInt64(max(0, (NIODeadline.now() - $0).nanoseconds / 1000)) }
                    resumeStarted = nil
                    progress.withLockedValue { progress in
                        progress.resumed += 1
                        if let waited { progress.resumeMicroseconds.append(waited) }
                    }
                    // What the server never acked, again and in order: it delivers each once.
                    for (_, frame) in unacked { send(frame, context: context) }
                    paused = false
                } else {
                    resumeStarted = nil
                    unacked.removeAll()
                    matched = false
                }
                return
            }
            resumeToken = message["resume_token"]?.stringValue
            if let interest { send(#"{"type":"find","interests":["\#(interest)"]}"#, context: context) }
        case "matched":
            guard !matched else { return }
            matched = true
            progress.withLockedValue { $0.matched += 1 }
        case "draining":
            // Evicted from a server going down: stop sending, come back after the pause it asks for.
            paused = true
            reconnectInMs = message["reconnect_in_ms"]?.intValue ?? 0
        case "error":
            let code = message["code"]?.stringValue ?? "unknown"
            progress.withLockedValue { $0.errorCodes[code, default: 0] += 1 }
        default:
            break
        }
    }

    /// `{"type":"message","id":ID,"text":"SEQUENCE SENT_NANOS",...}` from the partner. Text the
    /// load client did not write (a real user matched by fallback) is counted as foreign and ignored.
    private func recordDelivery(_ payload: ByteBuffer) {
        let bytes = payload.readableBytesView
        var index = bytes.startIndex + LoadClient.messagePrefix.count
        guard let id = Self.number(in: bytes, at: &index), let key = bytes[index...].firstRange(of: LoadClient.textKey) else {
            stats.foreign += 1
            return
        }
        index = key.upperBound
        guard let sequence = Self.number(in: bytes, at: &index), index < bytes.endIndex, bytes[index] == UInt8(ascii: " ") else {
            stats.foreign += 1
            return
        }
        index += 1
        guard let sentAt = Self.number(in: bytes, at: &index), index < bytes.endIndex, bytes[index] == UInt8(ascii: "\"") else {
            stats.foreign += 1
            return
        }
        lastMessageID = id
        let now = DispatchTime.now().uptimeNanoseconds
        if sequence == expectedSequence {
            expectedSequence += 1
        } else if sequence > expectedSequence, sequence - expectedSequence < 1_000_000 {
            stats.outOfOrder += 1
            for gap in expectedSequence..<sequence { missing.insert(gap) }
            expectedSequence = sequence + 1
        } else if missing.remove(sequence) == nil {
            stats.duplicated += 1
            return
        }
        stats.delivered += 1
        _ = stats.histogram.record(now > UInt64(sentAt) ? (now - UInt64(sentAt)) / 1000 : 0)
    }

    /// `{"type":"ack","client_id":"cSEQUENCE",...}`: the server kept that message.
    private func acked(_ payload: ByteBuffer) {
        let bytes = payload.readableBytesView
        guard bytes.starts(with: LoadClient.ackOfOursPrefix) else { return }
        var index = bytes.startIndex + LoadClient.ackOfOursPrefix.count
        guard let sequence = Self.number(in: bytes, at: &index) else { return }
        if unacked.first?.sequence == sequence {
            unacked.removeFirst()
        } else if let position = unacked.firstIndex(where: { $0.sequence == sequence }) {
            unacked.remove(at: position)
        } else {
            return
        }
        stats.acked += 1
    }

    /// The decimal digits at `index`, moving past them; nil for none or a number over 2^62.
    private static func number(in bytes: ByteBufferView, at index: inout ByteBufferView.Index) -> Int? {
        var value = 0
        let start = index
        while index < bytes.endIndex, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            guard value < 1 << 58 else { return nil }
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        return index > start ? value : nil
    }

    /// Sends the next message; false when this client cannot send now (not matched yet, between
    /// connections, or waiting for acks of a full window).
    @discardableResult
    func sendMessage() -> Bool {
        guard matched, !paused, let context else { return false }
        guard unacked.count < LoadClient.ackWindow else {
            stats.heldBack += 1
            return false
        }
        let sequence = nextSequence
        nextSequence += 1
        stats.sent += 1
        let frame = #"{"type":"message","text":"\#(sequence) \#(DispatchTime.now().uptimeNanoseconds)","client_id":"c\#(sequence)"}"#
        unacked.append((sequence, frame))
        send(frame, context: context)
        return true
    }

    /// What this client still waits for and what it received, for the end-of-run accounting.
    func accounting() -> DeliveryAccounting {
        DeliveryAccounting(unacked: unacked.map(\.sequence), expected: expectedSequence, missing: missing)
    }

    private func send(_ text: String, context: ChannelHandlerContext) {
        write(WebSocketFrame(fin: true, opcode: .text, maskKey: nextMask(), data: context.channel.allocator.buffer(string: text)), context: context)
    }

    private func nextMask() -> WebSocketMaskingKey { .random(using: &masks) }

    private func write(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(frame), promise: nil)
    }
}

/// Hands one connection's frames to its `LoadClient`.
final class LoadClientHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let client: LoadClient

    init(client: LoadClient) { self.client = client }

    func handlerAdded(context: ChannelHandlerContext) { client.attached(context) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        client.received(unwrapInboundIn(data), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        client.detached()
        context.fireChannelInactive()
    }
}
