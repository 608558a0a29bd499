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
    private let stopRequested = NIOLockedValueBox(false)
    /// Set when a target's /metrics did not answer: the run does not wait on it again.
    private let metricsUnavailable = NIOLockedValueBox(false)
    /// Servers whose process changed during the run (their RSS and CPU deltas are not figures).
    private let restarted = NIOLockedValueBox<Set<String>>([])

    public init(plan: LoadTestPlan, http: HTTPClient = HTTPClient()) {
        self.plan = plan
        self.http = http
    }

    /// Ends the run early (Ctrl-C): what was measured is reported, marked partial.
    public func stop() { stopRequested.withLockedValue { $0 = true } }

    private var stopping: Bool { stopRequested.withLockedValue { $0 } }

    /// - Parameter progress: called about once a second while the run lasts.
    public func run(progress: (@Sendable (LoadTestProgress) -> Void)? = nil) async throws -> LoadTestReport {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: plan.threads)
        do {
            let report = try await run(on: group, onProgress: progress)
            try? await group.shutdownGracefully()
            return report
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func run(on group: MultiThreadedEventLoopGroup, onProgress: (@Sendable (LoadTestProgress) -> Void)?) async throws -> LoadTestReport {
        let started = ContinuousClock.now
        let loops = Array(group.makeIterator())
        let stats = loops.map { LoopStats(eventLoop: $0) }
        let progress = NIOLockedValueBox(Progress())
        let rssBefore = await serverMetric("process_resident_memory_bytes")
        let countersBefore = await serverCounters()
        var report = LoadTestReport()
        report.plan = plan

        // Progress once a second, from a child task that ends with the run.
        let phase = NIOLockedValueBox("connecting")
        return try await withThrowingTaskGroup(of: Void.self) { reporters in
            if let onProgress {
                reporters.addTask { [stats] in
                    while (try? await Task.sleep(for: .seconds(1))) != nil {
                        let p = progress.withLockedValue { $0 }
                        let totals = (try? await self.collect(stats)) ?? LoopTotals()
                        onProgress(LoadTestProgress(
                            phase: phase.withLockedValue { $0 }, connections: p.established, failed: p.failed, sent: totals.sent,
                            delivered: totals.delivered, errors: p.errorCodes.values.reduce(0, +)))
                    }
                }
            }
            defer { reporters.cancelAll() }

            // Ramp: connect in batches, at most one every 10 ms, so the whole set takes `ramp`.
            let rampStarted = ContinuousClock.now
            let tick: Duration = .milliseconds(10)
            let batches = max(1, Int(plan.ramp / tick))
            let perBatch = max(1, (plan.connections + batches - 1) / batches)
            let chatting = plan.chattingPairs * 2
            let clients = (0..<plan.connections).map { index in
                LoadClient(
                    index: index, interest: index < chatting ? "lt-\(index / 2)" : nil, plan: plan,
                    stats: stats[index % loops.count], progress: progress)
            }
            // Each batch is due at its share of the ramp, so fewer connections than ticks still
            // spread over the whole ramp (arrivals, not a burst).
            for batchStart in stride(from: 0, to: plan.connections, by: perBatch) where !stopping {
                let due = rampStarted + plan.ramp * (Double(batchStart) / Double(plan.connections))
                if due > .now { try await Task.sleep(until: due, clock: .continuous) }
                for client in clients[batchStart..<min(batchStart + perBatch, plan.connections)] {
                    client.eventLoop.execute { client.connect() }
                }
            }
            // Connects and upgrades are bounded (LoadClient's timeouts), then matching is quick: a
            // client whose partner never connected waits only that long.
            try await waitUntil(timeout: plan.ramp + .seconds(15)) {
                let p = progress.withLockedValue { $0 }
                return p.established + p.failed >= plan.connections || self.stopping
            }
            var matchedSoFar = -1
            var lastMatch = ContinuousClock.now
            while !stopping {
                let p = progress.withLockedValue { $0 }
                if p.matched >= chatting - p.failedChatting { break }
                if p.matched != matchedSoFar {
                    matchedSoFar = p.matched
                    lastMatch = .now
                } else if ContinuousClock.now - lastMatch > .seconds(5) {
                    break  // the rest are waiting for partners that never connected
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            let rampElapsed = ContinuousClock.now - rampStarted
            let settled = progress.withLockedValue { $0 }
            report.connections = settled.established
            report.connectErrors = settled.failed
            report.connectFailures = settled.failures
            if settled.established > 0 { report.connectRate = Double(settled.established) / max(rampElapsed.seconds, 0.001) }
            if !stopping { try await Task.sleep(for: .milliseconds(500)) }
            if settled.established > 0, let grown = change(rssBefore, await serverMetric("process_resident_memory_bytes")) {
                report.serverBytesPerConnection = grown / Double(settled.established)
            }

            // Send: every millisecond each loop sends its share of the rate, round-robin over its chatting
            // clients. Coarser ticks send in bursts that queue up in the server and inflate the tail.
            phase.withLockedValue { $0 = "sending" }
            let cpuBefore = await serverMetric("process_cpu_seconds_total")
            let sendStarted = ContinuousClock.now
            if plan.rate > 0 && chatting > 0 && !stopping {
                let sendTick = TimeAmount.milliseconds(1)
                var tasks: [RepeatedTask] = []
                for (loopIndex, loop) in loops.enumerated() {
                    let senders = clients.filter { $0.index % loops.count == loopIndex && $0.isChatting }
                    guard !senders.isEmpty else { continue }
                    let share = Double(plan.rate) * Double(senders.count) / Double(chatting)
                    let sender = RoundRobinSender(senders: senders, perSecond: share)
                    tasks.append(loop.scheduleRepeatedTask(initialDelay: sendTick, delay: sendTick) { _ in sender.tick() })
                }
                let deadline = ContinuousClock.now + plan.duration
                while ContinuousClock.now < deadline && !stopping { try await Task.sleep(for: .milliseconds(50)) }
                for task in tasks { task.cancel() }
            }
            let sendElapsed = ContinuousClock.now - sendStarted
            let cpuAfter = await serverMetric("process_cpu_seconds_total")

            // What is still in flight when sending stops (a slow server, resumes catching up) is waited
            // for: while deliveries or acks still come, or a client is still resuming, up to
            // `maxSettle`; once nothing moves for `settle`, what is left is counted.
            phase.withLockedValue { $0 = "settling" }
            let settleStarted = ContinuousClock.now
            var lastMoved = -1
            var lastProgress = ContinuousClock.now
            while ContinuousClock.now < settleStarted + Self.maxSettle && !stopping {
                guard let totals = try? await collect(stats) else { break }
                let resuming = progress.withLockedValue { $0.resuming }
                // Done when every message arrived and every ack came back.
                if totals.delivered >= totals.sent && totals.acked >= totals.sent && resuming == 0 { break }
                if totals.delivered + totals.acked != lastMoved || resuming > 0 {
                    lastMoved = totals.delivered + totals.acked
                    lastProgress = .now
                } else if ContinuousClock.now - lastProgress >= Self.settle {
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            report.settled = ContinuousClock.now - settleStarted
            for client in clients { client.eventLoop.execute { client.finish() } }
            try await Task.sleep(for: .milliseconds(100))
            report.inFlight = try await Self.inFlight(clients, loops: loops)
            let totals = try await collect(stats)
            report.sent = totals.sent
            if plan.rate > 0 && chatting > 0 { report.achievedRate = Double(totals.sent) / max(min(sendElapsed, plan.duration).seconds, 0.001) }
            report.delivered = totals.delivered
            report.duplicated = totals.duplicated
            report.outOfOrder = totals.outOfOrder
            report.foreign = totals.foreign
            report.heldBack = totals.heldBack
            let final = progress.withLockedValue { $0 }
            report.matched = final.matched
            report.resumed = final.resumed
            report.resumeFailures = final.resumeFailures
            report.resumeMicroseconds = LoadTestReport.quantiles(final.resumeMicroseconds)
            report.errorCodes = final.errorCodes
            report.closeCodes = final.closeCodes
            let h = totals.histogram
            if h.totalCount > 0 {
                report.latencyMicroseconds = (h.valueAtPercentile(50), h.valueAtPercentile(95), h.valueAtPercentile(99), h.max)
            }
            if totals.delivered > 0, let used = change(cpuBefore, cpuAfter) {
                report.serverCPUPer10kMessages = used / Double(totals.delivered) * 10_000
            }
            if let before = countersBefore, let after = await serverCounters() {
                (report.serverRejections, report.serverDisconnections) = Self.counted(from: before, to: after)
            }
            report.serverMetricsFrom = plan.metricsURLs
            let restartedServers = restarted.withLockedValue { $0 }.sorted()
            if !restartedServers.isEmpty {
                report.serverFiguresNote = "restarted during the run, so its memory and CPU are another process's: \(restartedServers.joined(separator: ", "))"
            }
            report.partial = stopping
            report.elapsed = ContinuousClock.now - started
            return report
        }
    }

    /// The servers' counters of refused upgrades and closed connections, by reason, summed.
    /// Each server's refused upgrades and closed connections, by reason, with its process's
    /// start time (a restart resets its counters).
    private func serverCounters() async -> [String: ServerCounters]? {
        var all: [String: ServerCounters] = [:]
        for url in plan.metricsURLs {
            guard let text = await metrics(url) else { return nil }
            all[url] = ServerCounters(
                started: Self.value(named: "process_start_time_seconds", in: text),
                rejections: Self.counters(named: "whisper_connections_rejected_total", label: "reason", in: text),
                disconnections: Self.counters(named: "whisper_disconnections_total", label: "reason", in: text))
        }
        return all
    }

    struct ServerCounters {
        var started: Double?
        var rejections: [String: Int]
        var disconnections: [String: Int]
    }

    /// What the servers counted between two readings, summed: a server that restarted in between
    /// counts from its restart (its counters began again at 0), as the dashboard counts.
    static func counted(from before: [String: ServerCounters], to after: [String: ServerCounters]) -> (rejections: [String: Int], disconnections: [String: Int]) {
        var rejections: [String: Int] = [:]
        var disconnections: [String: Int] = [:]
        for (url, now) in after {
            guard let then = before[url], then.started == now.started else {
                rejections.add(now.rejections)
                disconnections.add(now.disconnections)
                continue
            }
            rejections.add(now.rejections.subtracting(then.rejections))
            disconnections.add(now.disconnections.subtracting(then.disconnections))
        }
        return (rejections, disconnections)
    }

    static func value(named name: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.dropFirst(name.count + 1)) }
    }

    /// `NAME{LABEL="value"} N` lines of a /metrics page, by label value.
    static func counters(named name: String, label: String, in text: String) -> [String: Int] {
        var values: [String: Int] = [:]
        let prefix = "\(name){\(label)=\""
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            let rest = line.dropFirst(prefix.count)
            guard let quote = rest.firstIndex(of: "\""), let space = rest.lastIndex(of: " "),
                let value = Double(rest[rest.index(after: space)...]), value.isFinite, abs(value) < 1e15
            else { continue }
            values[String(rest[..<quote]), default: 0] += Int(value)
        }
        return values
    }

    /// The longest wait for messages still in flight when sending stops: a resume's own budget.
    static let maxSettle: Duration = .seconds(60)
    /// Nothing delivered, acked or resuming for this long: what is left is not coming. Longer
    /// than a server takes to notice a stopped Redis or NATS and retry what it could not write
    /// (REDIS_TIMEOUT 2 s, two NATS pings of 2 s), several times over on a saturated machine.
    static let settle: Duration = .seconds(15)

    /// Messages sent, never acknowledged and never delivered: the server did not take them (a
    /// real client would send them again), so they are in flight, not lost. A chatting client's
    /// partner is its neighbour (`index ^ 1`).
    static func inFlight(_ clients: [LoadClient], loops: [EventLoop]) async throws -> Int {
        var accounts: [Int: DeliveryAccounting] = [:]
        for loop in loops {
            let mine = clients.filter { $0.eventLoop === loop && $0.isChatting }
            let part = try await loop.submit { mine.map { ($0.index, $0.accounting()) } }.get()
            for (index, account) in part { accounts[index] = account }
        }
        var count = 0
        for (index, account) in accounts {
            guard let partner = accounts[index ^ 1] else {
                count += account.unacked.count
                continue
            }
            count += account.unacked.filter { !partner.received($0) }.count
        }
        return count
    }

    static func sourceAddress(_ index: Int) -> String {
        "127.\(1 + index / 62_500).\(index / 250 % 250).\(index % 250 + 1)"
    }

    fileprivate func collect(_ stats: [LoopStats]) async throws -> LoopTotals {
        var totals = LoopTotals()
        for stat in stats {
            let part = try await stat.eventLoop.submit { stat.snapshot() }.get()
            totals.sent += part.sent
            totals.delivered += part.delivered
            totals.duplicated += part.duplicated
            totals.outOfOrder += part.outOfOrder
            totals.foreign += part.foreign
            totals.acked += part.acked
            totals.heldBack += part.heldBack
            totals.histogram.add(part.histogram)
        }
        return totals
    }

    /// A target's /metrics page; after one failure, none is asked again.
    private func metrics(_ url: String) async -> String? {
        guard !metricsUnavailable.withLockedValue({ $0 }) else { return nil }
        guard let response = try? await http.get(url, timeout: .seconds(2)), response.status == 200 else {
            metricsUnavailable.withLockedValue { $0 = true }
            return nil
        }
        return response.text
    }

    /// A metric of every server, with its process's start time; nil if any does not answer.
    private func serverMetric(_ name: String) async -> [String: (value: Double, started: Double?)]? {
        var values: [String: (value: Double, started: Double?)] = [:]
        for url in plan.metricsURLs {
            guard let text = await metrics(url), let value = Self.value(named: name, in: text) else { return nil }
            values[url] = (value, Self.value(named: "process_start_time_seconds", in: text))
        }
        return values
    }

    /// The change of a metric over the run, summed over the servers; nil when a server restarted
    /// in between (its RSS and CPU are another process's), with the reason kept for the report.
    private func change(_ before: [String: (value: Double, started: Double?)]?, _ after: [String: (value: Double, started: Double?)]?) -> Double? {
        guard let before, let after else { return nil }
        var total = 0.0
        for (url, now) in after {
            guard let then = before[url], then.started == now.started else {
                restarted.withLockedValue { $0.insert(url) }
                return nil
            }
            total += now.value - then.value
        }
        return total
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
    var resumed = 0
    var resumeFailures = 0
    /// Clients between a lost connection and their resumed welcome, now.
    var resuming = 0
    /// From a connection's end to its resumed session's welcome.
    var resumeMicroseconds: [UInt64] = []
    /// Why connections failed, e.g. "connection refused" or "HTTP 429".
    var failures: [String: Int] = [:]
    /// `error` codes the clients received (rate_limited, ...).
    var errorCodes: [String: Int] = [:]
    /// Close codes of the server's close frames (1008, 1012, ...).
    var closeCodes: [Int: Int] = [:]
}

struct LoopTotals {
    var sent = 0
    var delivered = 0
    var duplicated = 0
    var outOfOrder = 0
    var foreign = 0
    var acked = 0
    var heldBack = 0
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
}

/// One client's side of the end-of-run accounting.
struct DeliveryAccounting: Sendable {
    /// Its messages the server never acknowledged.
    var unacked: [Int]
    /// Of its partner's messages: every sequence below `expected` arrived, except `missing`.
    var expected: Int
    var missing: Set<Int>

    func received(_ sequence: Int) -> Bool { sequence < expected && !missing.contains(sequence) }
}

/// One event loop's counters; only that loop reads or writes them, hence `@unchecked Sendable`.
final class LoopStats: @unchecked Sendable {
    let eventLoop: EventLoop
    var sent = 0
    var delivered = 0
    var duplicated = 0
    var outOfOrder = 0
    /// Messages from a partner that the load client did not write.
    var foreign = 0
    /// Acks of our messages.
    var acked = 0
    /// Turns to send skipped because the client's ack window was full: the server's backpressure.
    var heldBack = 0
    /// Delivery latency in microseconds.
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)

    init(eventLoop: EventLoop) { self.eventLoop = eventLoop }

    func snapshot() -> LoopTotals {
        LoopTotals(
            sent: sent, delivered: delivered, duplicated: duplicated, outOfOrder: outOfOrder, foreign: foreign, acked: acked, heldBack: heldBack,
            histogram: histogram)
    }
}

/// Spreads a loop's share of messages over its chatting clients. Each tick sends what is due by
/// the clock since the start, so late ticks catch up and the rate holds whatever the tick jitter.
final class RoundRobinSender: @unchecked Sendable {
    // Only its event loop's repeated task calls `tick`.
    private let senders: [LoadClient]
    private let perSecond: Double
    private var started: NIODeadline?
    private var sentSoFar = 0
    private var next = 0

    init(senders: [LoadClient], perSecond: Double) {
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
        // A client between connections (resuming after a drain) skips its turn and the next one
        // sends: the rate holds as long as anyone can send.
        var tried = 0
        while count > 0 && tried < senders.count {
            if senders[next % senders.count].sendMessage() {
                count -= 1
                tried = 0
            } else {
                tried += 1
            }
            next += 1
        }
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

extension Dictionary where Value == Int {
    fileprivate mutating func add(_ other: [Key: Int]) {
        for (key, value) in other { self[key, default: 0] += value }
    }

    /// What grew since `earlier`, without the keys that did not.
    fileprivate func subtracting(_ earlier: [Key: Int]) -> [Key: Int] {
        var difference: [Key: Int] = [:]
        for (key, value) in self where value - (earlier[key] ?? 0) > 0 { difference[key] = value - (earlier[key] ?? 0) }
        return difference
    }
}
