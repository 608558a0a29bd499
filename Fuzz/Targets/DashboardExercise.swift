import OpsKit

/// Hostile endpoints through the whole dashboard: the input, split at NUL bytes, is two scrapes of
/// /metrics from two servers, HAProxy's stats CSV, Redis INFO and NATS /varz. Whatever they say,
/// the model, the alerts, every screen and the JSON hold, and each screen fits its size.
enum DashboardExercise {
    static let targets = DashboardTargets(
        deployment: "fuzz",
        servers: [
            ServerEntry(name: "ws1", url: "http://127.0.0.1:1", source: .builtInDefault),
            ServerEntry(name: "ws2", url: "http://127.0.0.1:2", source: .builtInDefault),
        ],
        haproxyStatsURL: "http://127.0.0.1:3/stats", redis: try? RedisAddress(parsing: "127.0.0.1:4"), natsMonitorURL: "http://127.0.0.1:5")

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map { Array($0) }
        func part(_ index: Int) -> [UInt8] { index < parts.count ? parts[index] : [] }
        var model = DashboardModel(targets: targets, window: 10)
        for (time, index) in [(0.0, 0), (5.0, 1)] {
            for name in ["ws1", "ws2"] {
                let payload: ScrapeEvent.Payload
                if let families = try? PrometheusTextParser.parse(part(index)) {
                    payload = .server(ServerReading(families: families, readyStatus: name == "ws1" ? 200 : 503, version: "x", draining: true))
                } else {
                    payload = .failed("bad exposition")
                }
                model.apply(ScrapeEvent(endpoint: .server(name), at: time, payload: payload))
            }
            if let stats = try? HAProxyStats(csv: String(decoding: part(2), as: UTF8.self)) {
                model.apply(ScrapeEvent(endpoint: .haproxy, at: time, payload: .haproxy(stats)))
            }
            model.apply(ScrapeEvent(endpoint: .redis, at: time, payload: .redis(info: parseRedisInfo(String(decoding: part(3), as: UTF8.self)))))
            if let varz = try? JSONValue.parse(part(4)) { model.apply(ScrapeEvent(endpoint: .nats, at: time, payload: .nats(varz: varz))) }
            model.tick(at: time)
        }
        let snapshot = model.snapshot(at: 6)
        _ = snapshot.json.serialized()
        var ui = DashboardUI()
        for (width, height) in [(80, 24), (50, 12), (200, 60), (10, 3)] {
            for screen in [DashboardUI.Screen.main, .detail("ws1"), .help] {
                ui.screen = screen
                let lines = DashboardLayout(width: width, height: height).render(snapshot, ui: ui, families: model.families(of:))
                precondition(lines.count == height || (width < 20 || height < 5), "\(lines.count) lines on a screen of \(height)")
                precondition(lines.allSatisfy { $0.text.count <= width }, "a line wider than \(width)")
            }
        }
    }
}
