import Foundation
import OpsKit
import Testing

/// The dashboard's model driven with scrape events: rates, quantiles, states and every alert rule,
/// against hand-computed figures. No terminal and no network.
@Suite struct DashboardModelTests {
    /// What one whisper-server exports, as its /metrics text.
    struct Exposition {
        var connections = 10
        var sent = 0
        var received = 0
        var blocked = 0
        var rejected = 0
        /// Cumulative latency bucket counts for le = 0.001, 0.01, 0.1, 1, +Inf.
        var latency: [Int] = [0, 0, 0, 0, 0]
        var queue = 0
        var chats = 0
        var rss = 50 << 20
        var limit: Int?
        var start = 1_000.0

        var families: [MetricFamily] {
            let bounds = ["0.001", "0.01", "0.1", "1", "+Inf"]
            var text = """
                # TYPE whisper_connections_total gauge
                whisper_connections_total \(connections)
                # TYPE whisper_messages_total counter
                whisper_messages_total{type="sent"} \(sent)
                whisper_messages_total{type="received"} \(received)
                whisper_messages_total{type="blocked"} \(blocked)
                whisper_messages_total{type="lost"} 0
                # TYPE whisper_connections_rejected_total counter
                whisper_connections_rejected_total{reason="max_connections"} \(rejected)
                # TYPE whisper_message_latency_seconds histogram

                """
            for (bound, count) in zip(bounds, latency) { text += "whisper_message_latency_seconds_bucket{le=\"\(bound)\"} \(count)\n" }
            text += """
                whisper_message_latency_seconds_count \(latency.last!)
                # TYPE whisper_match_queue_size gauge
                whisper_match_queue_size \(queue)
                # TYPE whisper_active_chats gauge
                whisper_active_chats \(chats)
                # TYPE process_resident_memory_bytes gauge
                process_resident_memory_bytes \(rss)
                # TYPE process_start_time_seconds gauge
                process_start_time_seconds \(start)

                """
            if let limit { text += "# TYPE whisper_memory_limit_bytes gauge\nwhisper_memory_limit_bytes \(limit)\n" }
            return try! PrometheusTextParser.parse(text)
        }
    }

    static func targets(_ names: [String] = ["ws1"], haproxy: Bool = false, redis: Bool = false, nats: Bool = false) -> DashboardTargets {
        DashboardTargets(
            deployment: "test", servers: names.map { ServerEntry(name: $0, url: "http://127.0.0.1:1/\($0)", source: .builtInDefault) },
            haproxyStatsURL: haproxy ? "http://127.0.0.1:1/stats" : nil,
            redis: redis ? try! RedisAddress(parsing: "127.0.0.1:6379") : nil, natsMonitorURL: nats ? "http://127.0.0.1:1" : nil)
    }

    static func server(_ name: String, at time: Double, _ exposition: Exposition, ready: Int = 200, draining: Bool = false) -> ScrapeEvent {
        ScrapeEvent(
            endpoint: .server(name), at: time,
            payload: .server(ServerReading(families: exposition.families, readyStatus: ready, version: "0.1.0", draining: draining)))
    }

    static func haproxy(at time: Double, backend: String = "UP", _ servers: [(String, String)]) -> ScrapeEvent {
        var csv = "# pxname,svname,scur,status,check_status,\n"
        for (name, status) in servers { csv += "ws_servers,\(name),3,\(status),L7OK,\n" }
        csv += "ws_servers,BACKEND,9,\(backend),,\n"
        return ScrapeEvent(endpoint: .haproxy, at: time, payload: .haproxy(try! HAProxyStats(csv: csv)))
    }

    @Test func ratesCoverTheWindowAndSurviveARestart() {
        var model = DashboardModel(targets: Self.targets(), window: 10)
        var exposition = Exposition(received: 100)
        model.apply(Self.server("ws1", at: 0, exposition))
        #expect(model.snapshot(at: 0).fleet.receivedPerSecond == nil, "one scrape measures no rate")
        exposition.received = 110
        model.apply(Self.server("ws1", at: 1, exposition))
        #expect(model.snapshot(at: 1).fleet.receivedPerSecond == 10)
        exposition.received = 5  // restarted: counted from 0 again
        exposition.start = 1_002
        model.apply(Self.server("ws1", at: 2, exposition))
        #expect(model.snapshot(at: 2).instances[0].messagesPerSecond == nil, "a new process: the old one's rate is not its")
        exposition.received = 9
        model.apply(Self.server("ws1", at: 3, exposition))
        let fleet = model.snapshot(at: 3).fleet
        #expect(fleet.receivedPerSecond == 4, "(9 - 5) / 1 s, the new process only")
        #expect(fleet.sentPerSecond == 0)
    }

    /// A server that stops answering shows no figures: not its last connections, memory,
    /// uptime or rate, as `top` does.
    @Test func aServerThatDoesNotAnswerKeepsNoStaleFigures() {
        var model = DashboardModel(targets: Self.targets(), window: 10)
        var exposition = Exposition(received: 100)
        model.apply(Self.server("ws1", at: 0, exposition))
        exposition.received = 200
        model.apply(Self.server("ws1", at: 1, exposition))
        #expect(model.snapshot(at: 1).instances[0].connections == 10)
        model.apply(ScrapeEvent(endpoint: .server("ws1"), at: 2, payload: .failed("no answer within 2 s")))
        let row = model.snapshot(at: 2).instances[0]
        #expect(row.state == .down && row.error == "no answer within 2 s")
        #expect(row.connections == nil && row.residentBytes == nil && row.uptime == nil && row.messagesPerSecond == nil && row.p99 == nil)
    }

    @Test func oldPointsLeaveTheWindow() {
        var model = DashboardModel(targets: Self.targets(), window: 10)
        var exposition = Exposition()
        for second in 0...30 {
            // 100/s for the first 20 s, then 10/s.
            exposition.received += second <= 20 ? 100 : 10
            model.apply(Self.server("ws1", at: Double(second), exposition))
        }
        #expect(model.snapshot(at: 30).fleet.receivedPerSecond == 10)
    }

    @Test func latencyQuantilesComeFromTheWindowAcrossInstances() {
        var model = DashboardModel(targets: Self.targets(["ws1", "ws2"]), window: 10)
        // Before the window: a slow past that must not count.
        model.apply(Self.server("ws1", at: 0, Exposition(latency: [0, 0, 0, 50, 50])))
        model.apply(Self.server("ws2", at: 0, Exposition(latency: [0, 0, 0, 0, 0])))
        // In the window: ws1 adds 60 under 1 ms, ws2 adds 40 between 1 and 10 ms.
        model.apply(Self.server("ws1", at: 10, Exposition(latency: [60, 60, 60, 110, 110])))
        model.apply(Self.server("ws2", at: 10, Exposition(latency: [0, 40, 40, 40, 40])))
        let fleet = model.snapshot(at: 10).fleet
        // 100 observations: rank 50 falls in the first bucket (60), rank 99 in the second (60..100).
        #expect(abs(fleet.p50! - 0.001 * 50 / 60) < 1e-12)
        #expect(abs(fleet.p99! - (0.001 + 0.009 * 39 / 40)) < 1e-12)
        // Nothing observed in the window: unmeasured, not zero.
        model.apply(Self.server("ws1", at: 20, Exposition(latency: [60, 60, 60, 110, 110])))
        model.apply(Self.server("ws2", at: 20, Exposition(latency: [0, 40, 40, 40, 40])))
        #expect(model.snapshot(at: 20).fleet.p99 == nil)
    }

    @Test func theMatchQueueIsSharedWithRedisAndAddedUpWithout() {
        for shared in [true, false] {
            var model = DashboardModel(targets: Self.targets(["ws1", "ws2"], redis: shared))
            model.apply(Self.server("ws1", at: 0, Exposition(queue: 30)))
            model.apply(Self.server("ws2", at: 0, Exposition(queue: 30)))
            #expect(model.snapshot(at: 0).fleet.matchQueue == (shared ? 30 : 60))
        }
    }

    @Test func statesMergeHAProxyAndReady() {
        let names = ["ws1", "ws2", "ws3", "ws4", "ws5", "ws6", "ws7"]
        var model = DashboardModel(targets: Self.targets(names, haproxy: true))
        model.apply(Self.haproxy(at: 0, [("ws1", "UP"), ("ws2", "DRAIN"), ("ws3", "MAINT"), ("ws4", "DOWN 1/2"), ("ws5", "UP")]))
        for name in ["ws1", "ws2", "ws3", "ws4"] { model.apply(Self.server(name, at: 0, Exposition())) }
        model.apply(Self.server("ws5", at: 0, Exposition(), ready: 503, draining: true))
        model.apply(ScrapeEvent(endpoint: .server("ws6"), at: 0, payload: .failed("connection refused")))
        model.apply(ScrapeEvent(endpoint: .server("ws7"), at: 0, payload: .started))
        let rows = model.snapshot(at: 3).instances
        #expect(rows.map(\.state) == [.up, .drain, .maint, .down, .drain, .down, .waiting])
        #expect(rows[3].haproxyStatus == "DOWN 1/2")
        #expect(rows[5].error == "connection refused")
        #expect(rows[6].waitingFor == 3)
        #expect(model.snapshot(at: 3).fleet.reporting == 5)
    }

    @Test func anEndpointThatHangsShowsAsWaitingWhileTheOthersMoveOn() {
        var model = DashboardModel(targets: Self.targets(["ws1", "ws2"]))
        model.apply(Self.server("ws1", at: 0, Exposition(connections: 4)))
        model.apply(Self.server("ws2", at: 0, Exposition(connections: 6)))
        model.apply(ScrapeEvent(endpoint: .server("ws2"), at: 1, payload: .started))
        model.apply(Self.server("ws1", at: 1, Exposition(connections: 5)))
        let snapshot = model.snapshot(at: 4)
        #expect(snapshot.instances[1].waitingFor == 3)
        #expect(snapshot.instances[0].waitingFor == nil)
        #expect(snapshot.fleet.connections == 11, "the last answer of a slow instance still counts")
    }

    // MARK: - Alerts, one rule at a time

    func rules(_ snapshot: DashboardSnapshot) -> [String] { snapshot.alerts.map(\.rule) }

    @Test func serviceDownFiresForInstancesAndServices() {
        var model = DashboardModel(targets: Self.targets(["ws1", "ws2"], haproxy: true, redis: true, nats: true))
        model.apply(Self.server("ws1", at: 0, Exposition()))
        model.apply(ScrapeEvent(endpoint: .server("ws2"), at: 0, payload: .failed("connection refused")))
        model.apply(ScrapeEvent(endpoint: .redis, at: 0, payload: .failed("timed out")))
        model.apply(Self.haproxy(at: 0, [("ws1", "UP"), ("ws2", "UP")]))
        model.apply(ScrapeEvent(endpoint: .nats, at: 0, payload: .nats(varz: .object([("slow_consumers", .int(0))]))))
        let alerts = model.snapshot(at: 0).alerts
        #expect(alerts.filter { $0.rule == "service_down" }.map(\.subject).sorted() == ["redis", "ws2"])
        #expect(alerts.allSatisfy { $0.severity == .critical })
        // It recovers: the alert goes.
        model.apply(Self.server("ws2", at: 1, Exposition()))
        model.apply(ScrapeEvent(endpoint: .redis, at: 1, payload: .redis(info: ["used_memory": "100", "maxmemory": "0"])))
        #expect(model.snapshot(at: 1).alerts.isEmpty)
    }

    @Test func highMemoryAgainstTheContainerLimit() {
        var model = DashboardModel(targets: Self.targets(["ws1", "ws2", "ws3"]))
        model.apply(Self.server("ws1", at: 0, Exposition(rss: 900, limit: 1000)))
        model.apply(Self.server("ws2", at: 0, Exposition(rss: 700, limit: 1000)))
        model.apply(Self.server("ws3", at: 0, Exposition(rss: 900)))  // no limit known: nothing to compare
        let alerts = model.snapshot(at: 0).alerts
        #expect(alerts.map(\.rule) == ["high_memory"])
        #expect(alerts.first?.subject == "ws1")
    }

    @Test func matchQueueBackingUpNeedsBothSizeAndGrowth() {
        var model = DashboardModel(targets: Self.targets(), window: 10)
        for (second, queue) in [(0, 12_000), (5, 11_000), (10, 10_500)] {
            model.apply(Self.server("ws1", at: Double(second), Exposition(queue: queue)))
            model.tick(at: Double(second))
        }
        #expect(!rules(model.snapshot(at: 10)).contains("match_queue_backing_up"), "large but shrinking")
        model.apply(Self.server("ws1", at: 15, Exposition(queue: 13_000)))
        model.tick(at: 15)
        #expect(rules(model.snapshot(at: 15)).contains("match_queue_backing_up"))
    }

    @Test func highLatencyOverHalfASecond() {
        var model = DashboardModel(targets: Self.targets())
        model.apply(Self.server("ws1", at: 0, Exposition(latency: [0, 0, 0, 0, 0])))
        model.apply(Self.server("ws1", at: 5, Exposition(latency: [90, 90, 90, 100, 100])))
        let p99 = model.snapshot(at: 5).fleet.p99!
        #expect(abs(p99 - (0.1 + 0.9 * 9 / 10)) < 1e-12)
        #expect(rules(model.snapshot(at: 5)) == ["high_latency"])
        var fast = DashboardModel(targets: Self.targets())
        fast.apply(Self.server("ws1", at: 0, Exposition(latency: [0, 0, 0, 0, 0])))
        fast.apply(Self.server("ws1", at: 5, Exposition(latency: [100, 100, 100, 100, 100])))
        #expect(fast.snapshot(at: 5).alerts.isEmpty)
    }

    @Test func blockedRatioOverFivePercent() {
        var model = DashboardModel(targets: Self.targets())
        model.apply(Self.server("ws1", at: 0, Exposition()))
        model.apply(Self.server("ws1", at: 10, Exposition(sent: 45, received: 45, blocked: 10)))
        #expect(rules(model.snapshot(at: 10)) == ["high_error_rate"])
        model.apply(Self.server("ws1", at: 20, Exposition(sent: 545, received: 545, blocked: 12)))
        #expect(model.snapshot(at: 20).alerts.isEmpty, "2 blocked of 1002 in the window")
    }

    @Test func haproxyBackendDown() {
        var model = DashboardModel(targets: Self.targets(["ws1", "ws2"], haproxy: true))
        model.apply(Self.server("ws1", at: 0, Exposition()))
        model.apply(Self.server("ws2", at: 0, Exposition()))
        model.apply(Self.haproxy(at: 0, [("ws1", "UP"), ("ws2", "DRAIN")]))
        #expect(model.snapshot(at: 0).alerts.isEmpty, "one serving is enough; a drain is deliberate")
        model.apply(Self.haproxy(at: 1, backend: "DOWN", [("ws1", "DOWN"), ("ws2", "DRAIN")]))
        let alerts = model.snapshot(at: 1).alerts
        #expect(alerts.contains { $0.rule == "haproxy_backend_down" && $0.severity == .critical })
        #expect(alerts.contains { $0.rule == "service_down" && $0.subject == "ws1" }, "HAProxy's DOWN is the instance's state")
    }

    @Test func redisMemoryAgainstMaxmemory() {
        var model = DashboardModel(targets: Self.targets(redis: true))
        model.apply(Self.server("ws1", at: 0, Exposition()))
        model.apply(ScrapeEvent(endpoint: .redis, at: 0, payload: .redis(info: ["used_memory": "850", "maxmemory": "1000"])))
        #expect(rules(model.snapshot(at: 0)) == ["redis_memory_high"])
        model.apply(ScrapeEvent(endpoint: .redis, at: 1, payload: .redis(info: ["used_memory": "850", "maxmemory": "0"])))
        #expect(model.snapshot(at: 1).alerts.isEmpty, "no maxmemory: no ratio")
    }

    @Test func connectionStallWhileUpgradesAreRefused() {
        var model = DashboardModel(targets: Self.targets())
        for second in 0...10 {
            model.apply(Self.server("ws1", at: Double(second), Exposition(connections: 500, rejected: second * 20)))
            model.tick(at: Double(second))
        }
        #expect(rules(model.snapshot(at: 10)) == ["connection_stall"])
        var growing = DashboardModel(targets: Self.targets())
        for second in 0...10 {
            growing.apply(Self.server("ws1", at: Double(second), Exposition(connections: 500 + second, rejected: second * 20)))
            growing.tick(at: Double(second))
        }
        #expect(growing.snapshot(at: 10).alerts.isEmpty)
    }

    @Test func natsSlowConsumers() {
        var model = DashboardModel(targets: Self.targets(nats: true))
        model.apply(Self.server("ws1", at: 0, Exposition()))
        model.apply(ScrapeEvent(endpoint: .nats, at: 0, payload: .nats(varz: .object([("slow_consumers", .int(3)), ("in_msgs", .int(10))]))))
        #expect(rules(model.snapshot(at: 0)) == ["nats_slow_consumers"])
    }

    @Test func theJSONSaysNullForWhatWasNotMeasured() throws {
        var model = DashboardModel(targets: Self.targets())
        model.apply(Self.server("ws1", at: 0, Exposition(connections: 7)))
        let json = model.snapshot(at: 0).json
        #expect(json["fleet"]?["connections"]?.intValue == 7)
        #expect(json["fleet"]?["received_per_second"] == .null)
        #expect(json["fleet"]?["latency_p99_seconds"] == .null)
        #expect(json["instances"]?.arrayValue?.first?["state"]?.stringValue == "UP")
        #expect(json["alerts"]?.arrayValue?.isEmpty == true)
    }
}
