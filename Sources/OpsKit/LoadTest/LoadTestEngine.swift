import Foundation
import Histogram
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOWebSocket

/// Drives a load test through the real protocol: opens connections over the ramp, pairs clients
/// (each pair shares a unique interest, so it matches at once), sends sequence-numbered,
/// timestamped messages at the planned rate, and checks every delivery.
///
/// Each event loop keeps its own counters and histogram (`LoopStats`), touched only on that loop,
/// so the hot path takes no lock.
public final class LoadTestEngine: Sendable {
    public let plan: LoadTestPlan
    private let http: HTTPClient

    public init(plan: LoadTestPlan, http: HTTPClient = HTTPClient()) {
        self.plan = plan
        self.http = http
    }

    public func run() async throws -> LoadTestReport {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: plan.threads)
        do {
            let report = try await run(on: group)
            try? await group.shutdownGracefully()
            return report
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func run(on group: MultiThreadedEventLoopGroup) async throws -> LoadTestReport {
        let started = ContinuousClock.now
        let loops = Array(group.makeIterator())
        let stats = loops.map { LoopStats(eventLoop: $0) }
        let progress = NIOLockedValueBox(Progress())
        let metricsURL = "http://\(plan.host):\(plan.port)/metrics"
        let rssBefore = await serverMetric(metricsURL, "process_resident_memory_bytes")

        // Ramp: connect in batches every 10 ms so the whole set takes `ramp`.
        let rampStarted = ContinuousClock.now
        let tick: Duration = .milliseconds(10)
        let batches = max(1, Int(plan.ramp / tick))
        let perBatch = max(1, (plan.connections + batches - 1) / batches)
        let handlerBox = NIOLockedValueBox<[Int: LoadClientHandler]>([:])
        for batchStart in stride(from: 0, to: plan.connections, by: perBatch) {
            for index in batchStart..<min(batchStart + perBatch, plan.connections) {
                let loopIndex = index % loops.count
                connect(index: index, loop: loops[loopIndex], stats: stats[loopIndex], progress: progress, handlers: handlerBox)
            }
            if batchStart + perBatch < plan.connections { try await Task.sleep(for: tick) }
        }
        let chatting = plan.chattingPairs * 2
        try await waitUntil(timeout: plan.ramp + .seconds(30)) {
            let p = progress.withLockedValue { $0 }
            return p.established + p.failed >= plan.connections && p.matched >= chatting - p.failedChatting
        }
        var report = LoadTestReport()
        let rampElapsed = ContinuousClock.now - rampStarted
        let settled = progress.withLockedValue { $0 }
        report.connections = settled.established
        report.connectErrors = settled.failed
        report.connectRate = Double(settled.established) / max(rampElapsed.seconds, 0.001)
        try await Task.sleep(for: .milliseconds(500))
        if let before = rssBefore, let after = await serverMetric(metricsURL, "process_resident_memory_bytes"), settled.established > 0 {
            report.serverBytesPerConnection = (after - before) / Double(settled.established)
        }
        let handlers = handlerBox.withLockedValue { $0 }

        // Send: every millisecond each loop sends its share of the rate, round-robin over its chatting
        // clients. Coarser ticks send in bursts that queue up in the server and inflate the tail.
        let cpuBefore = await serverMetric(metricsURL, "process_cpu_seconds_total")
        if plan.rate > 0 && chatting > 0 {
            let sendTick = TimeAmount.milliseconds(1)
            var tasks: [RepeatedTask] = []
            for (loopIndex, loop) in loops.enumerated() {
                let senders = handlers.filter { $0.key % loops.count == loopIndex && $0.key < chatting }.map(\.value)
                guard !senders.isEmpty else { continue }
                let share = Double(plan.rate) * Double(senders.count) / Double(chatting)
                let sender = RoundRobinSender(senders: senders, perSecond: share)
                tasks.append(loop.scheduleRepeatedTask(initialDelay: sendTick, delay: sendTick) { _ in sender.tick() })
            }
            try await Task.sleep(for: plan.duration)
            for task in tasks { task.cancel() }
        }
        let cpuAfter = await serverMetric(metricsURL, "process_cpu_seconds_total")

        // Let in-flight messages land, then gather each loop's figures on its own loop.
        try? await waitUntil(timeout: .seconds(3)) {
            let totals = try? await self.collect(stats)
            return totals.map { $0.delivered >= $0.sent } ?? false
        }
        let totals = try await collect(stats)
        report.sent = totals.sent
        report.achievedRate = Double(totals.sent) / max((plan.duration).seconds, 0.001)
        report.delivered = totals.delivered
        report.duplicated = totals.duplicated
        report.outOfOrder = totals.outOfOrder
        let h = totals.histogram
        report.latencyMicroseconds = (h.valueAtPercentile(50), h.valueAtPercentile(95), h.valueAtPercentile(99), h.max)
        if let before = cpuBefore, let after = cpuAfter, totals.delivered > 0 {
            report.serverCPUPer10kMessages = (after - before) / Double(totals.delivered) * 10_000
        }
        for handler in handlers.values { handler.closeConnection() }
        report.elapsed = ContinuousClock.now - started
        return report
    }

    private func connect(
        index: Int, loop: EventLoop, stats: LoopStats, progress: NIOLockedValueBox<Progress>,
        handlers: NIOLockedValueBox<[Int: LoadClientHandler]>
    ) {
        let plan = self.plan
        let chatting = index < plan.chattingPairs * 2
        let upgraded = loop.makePromise(of: Void.self)
        let interest = chatting ? "lt-\(index / 2)" : nil
        var bootstrap = ClientBootstrap(group: loop)
        // On loopback every client gets its own source address (any 127.x.y.z works), as real
        // users have: per-IP limits behave as in production and no one address runs out of ports.
        if plan.host.hasPrefix("127."), let source = try? SocketAddress(ipAddress: LoadTestEngine.sourceAddress(index), port: 0) {
            bootstrap = bootstrap.bind(to: source)
        }
        bootstrap
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 1 << 16))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = LoadClientHandler(index: index, interest: interest, stats: stats, progress: progress)
                    handlers.withLockedValue { $0[index] = handler }
                    try channel.pipeline.syncOperations.addHandler(
                        WebSocketHandshakeHandler(host: plan.host, port: plan.port, path: plan.path, upgraded: upgraded, frameHandler: handler))
                }
            }
            .connect(host: plan.host, port: plan.port)
            .flatMap { _ in upgraded.futureResult }
            .whenComplete { result in
                progress.withLockedValue { progress in
                    switch result {
                    case .success: progress.established += 1
                    case .failure:
                        progress.failed += 1
                        if chatting { progress.failedChatting += 1 }
                    }
                }
                if case .failure = result { upgraded.fail(OpsError(.io, "connect failed")) }
            }
    }

    static func sourceAddress(_ index: Int) -> String {
        "127.\(1 + index / 62_500).\(index / 250 % 250).\(index % 250 + 1)"
    }

    private func collect(_ stats: [LoopStats]) async throws -> LoopTotals {
        var totals = LoopTotals()
        for stat in stats {
            let part = try await stat.eventLoop.submit { stat.snapshot() }.get()
            totals.sent += part.sent
            totals.delivered += part.delivered
            totals.duplicated += part.duplicated
            totals.outOfOrder += part.outOfOrder
            totals.histogram.add(part.histogram)
        }
        return totals
    }

    private func serverMetric(_ url: String, _ name: String) async -> Double? {
        guard let text = try? await http.get(url, timeout: .seconds(5)).text else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    private func waitUntil(timeout: Duration, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

struct Progress {
    var established = 0
    var failed = 0
    var failedChatting = 0
    var matched = 0
}

struct LoopTotals {
    var sent = 0
    var delivered = 0
    var duplicated = 0
    var outOfOrder = 0
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
}

/// One event loop's counters; only that loop reads or writes them, hence `@unchecked Sendable`.
final class LoopStats: @unchecked Sendable {
    let eventLoop: EventLoop
    var sent = 0
    var delivered = 0
    var duplicated = 0
    var outOfOrder = 0
    /// Delivery latency in microseconds.
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)

    init(eventLoop: EventLoop) { self.eventLoop = eventLoop }

    func snapshot() -> LoopTotals {
        LoopTotals(sent: sent, delivered: delivered, duplicated: duplicated, outOfOrder: outOfOrder, histogram: histogram)
    }
}

/// Spreads a loop's share of messages over its chatting clients. Each tick sends what is due by
/// the clock since the start, so late ticks catch up and the rate holds whatever the tick jitter.
final class RoundRobinSender: @unchecked Sendable {
    // Only its event loop's repeated task calls `tick`.
    private let senders: [LoadClientHandler]
    private let perSecond: Double
    private var started: NIODeadline?
    private var sentSoFar = 0
    private var next = 0

    init(senders: [LoadClientHandler], perSecond: Double) {
        self.senders = senders
        self.perSecond = perSecond
    }

    func tick() {
        let now = NIODeadline.now()
        let start = started ?? now
        started = start
        let due = Int(perSecond * Double((now - start).nanoseconds) / 1e9)
        var count = due - sentSoFar
        sentSoFar = max(due, sentSoFar)
        while count > 0 {
            senders[next % senders.count].sendMessage()
            next += 1
            count -= 1
        }
    }
}

/// One simulated user after the handshake: finds its partner, sends and checks messages.
/// Lives on its channel's event loop, like all its state; `@unchecked Sendable` for that reason.
final class LoadClientHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let index: Int
    let interest: String?
    let stats: LoopStats
    let progress: NIOLockedValueBox<Progress>
    private var context: ChannelHandlerContext?
    private var matched = false
    private var nextSequence = 0
    private var expectedSequence = 0
    private var missing = Set<Int>()

    init(index: Int, interest: String?, stats: LoopStats, progress: NIOLockedValueBox<Progress>) {
        self.index = index
        self.interest = interest
        self.stats = stats
        self.progress = progress
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            let payload = frame.unmaskedData
            // Relayed messages are the hot path: read them from the bytes without building a String.
            if payload.readableBytesView.starts(with: LoadClientHandler.messagePrefix) {
                recordDelivery(payload)
            } else if payload.readableBytesView.starts(with: LoadClientHandler.ackPrefix) {
                return  // one per message sent: nothing to check, so not worth a String
            } else {
                var copy = payload
                receive(copy.readString(length: copy.readableBytes) ?? "")
            }
        case .ping:
            write(WebSocketFrame(fin: true, opcode: .pong, maskKey: nextMask(), data: frame.unmaskedData))
        default:
            break
        }
    }

    static let messagePrefix = Array(#"{"type":"message""#.utf8)
    static let ackPrefix = Array(#"{"type":"ack""#.utf8)
    static let textKey = Array(#""text":""#.utf8)

    private func receive(_ text: String) {
        if text.hasPrefix(#"{"type":"welcome""#), let interest {
            send(#"{"type":"find","interests":["\#(interest)"]}"#)
        } else if text.hasPrefix(#"{"type":"matched""#), !matched {
            matched = true
            progress.withLockedValue { $0.matched += 1 }
        }
    }

    /// The text is "SEQUENCE SENT_NANOS" from the partner.
    private func recordDelivery(_ payload: ByteBuffer) {
        let bytes = payload.readableBytesView
        guard let key = bytes.firstRange(of: LoadClientHandler.textKey) else { return }
        var sequence = 0
        var sentAt: UInt64 = 0
        var index = key.upperBound
        while index < bytes.endIndex, bytes[index] != UInt8(ascii: " ") {
            sequence = sequence * 10 + Int(bytes[index] &- UInt8(ascii: "0"))
            index += 1
        }
        index += 1
        while index < bytes.endIndex, bytes[index] != UInt8(ascii: "\"") {
            sentAt = sentAt * 10 + UInt64(bytes[index] &- UInt8(ascii: "0"))
            index += 1
        }
        let now = DispatchTime.now().uptimeNanoseconds
        if sequence == expectedSequence {
            expectedSequence += 1
        } else if sequence > expectedSequence {
            stats.outOfOrder += 1
            for gap in expectedSequence..<sequence { missing.insert(gap) }
            expectedSequence = sequence + 1
        } else if missing.remove(sequence) == nil {
            stats.duplicated += 1
            return
        }
        stats.delivered += 1
        _ = stats.histogram.record(now > sentAt ? (now - sentAt) / 1000 : 0)
    }

    func sendMessage() {
        guard matched, context != nil else { return }
        let text = "\(nextSequence) \(DispatchTime.now().uptimeNanoseconds)"
        nextSequence += 1
        stats.sent += 1
        send(#"{"type":"message","text":"\#(text)"}"#)
    }

    private func send(_ text: String) {
        guard let context else { return }
        write(WebSocketFrame(fin: true, opcode: .text, maskKey: nextMask(), data: context.channel.allocator.buffer(string: text)))
    }

    /// Masking keys from a per-connection xorshift generator: a load generator needs masks that
    /// vary, not the system's cryptographic generator on every frame.
    private var masks = XorShiftGenerator(seed: UInt64.random(in: 1...UInt64.max))

    private func nextMask() -> WebSocketMaskingKey { .random(using: &masks) }

    private func write(_ frame: WebSocketFrame) {
        context?.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    func closeConnection() {
        stats.eventLoop.execute { [self] in context?.close(promise: nil) }
    }
}

/// xorshift64: cheap, varied numbers for masking keys.
struct XorShiftGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
