import Foundation
import NIOConcurrencyHelpers
import NIOPosix

/// Scrapes every endpoint of a deployment on its own schedule: each has its own loop, so a slow or
/// dead one delays nobody else. Each scrape is bounded by `timeout`; its start and its outcome
/// are both reported, so a hung endpoint shows as "waiting" while it hangs.
public final class DeploymentScraper: Sendable {
    public let targets: DashboardTargets
    private let settings: NIOLockedValueBox<Settings>
    private let http: HTTPClient
    private let pool: NIOThreadPool

    struct Settings {
        var interval: Duration
        var timeout: Duration
        var paused = false
    }

    public init(targets: DashboardTargets, interval: Duration = .seconds(1), timeout: Duration = .seconds(2), http: HTTPClient = HTTPClient(), pool: NIOThreadPool = .singleton) {
        self.targets = targets
        self.settings = NIOLockedValueBox(Settings(interval: interval, timeout: timeout))
        self.http = http
        self.pool = pool
    }

    public var interval: Duration {
        get { settings.withLockedValue { $0.interval } }
        set { settings.withLockedValue { $0.interval = newValue } }
    }

    /// A paused scraper sends nothing; the screen keeps its last numbers.
    public var paused: Bool {
        get { settings.withLockedValue { $0.paused } }
        set { settings.withLockedValue { $0.paused = newValue } }
    }

    /// Scrapes until the task is cancelled, handing every event to `sink` (from any thread).
    public func run(_ sink: @escaping @Sendable (ScrapeEvent) -> Void) async {
        await withDiscardingTaskGroup { group in
            for endpoint in targets.endpoints {
                group.addTask { await self.loop(endpoint, sink) }
            }
        }
    }

    /// Every endpoint scraped once, concurrently: `top --once`.
    public func scrapeOnce() async -> [ScrapeEvent] {
        await withTaskGroup(of: ScrapeEvent.self) { group in
            for endpoint in targets.endpoints {
                group.addTask { await self.scrape(endpoint) }
            }
            var events: [ScrapeEvent] = []
            for await event in group { events.append(event) }
            return events
        }
    }

    private func loop(_ endpoint: DashboardEndpoint, _ sink: @escaping @Sendable (ScrapeEvent) -> Void) async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let started = clock.now
            let (interval, paused) = settings.withLockedValue { ($0.interval, $0.paused) }
            if !paused {
                sink(ScrapeEvent(endpoint: endpoint, at: Date().timeIntervalSince1970, payload: .started))
                sink(await scrape(endpoint))
            }
            // Ticks keep their rhythm; a scrape that took longer than the interval is followed at once.
            try? await Task.sleep(until: started + interval, clock: clock)
        }
    }

    /// One scrape of `endpoint`, never longer than the timeout even when a C call hangs.
    public func scrape(_ endpoint: DashboardEndpoint) async -> ScrapeEvent {
        let timeout = settings.withLockedValue { $0.timeout }
        let started = ContinuousClock.now
        let payload = await bounded(by: timeout) { await self.read(endpoint, timeout: timeout) }
        return ScrapeEvent(endpoint: endpoint, at: Date().timeIntervalSince1970, elapsed: ContinuousClock.now - started, payload: payload)
    }

    private func read(_ endpoint: DashboardEndpoint, timeout: Duration) async -> ScrapeEvent.Payload {
        do {
            switch endpoint {
            case .server(let name):
                guard let entry = targets.servers.first(where: { $0.name == name }) else { return .failed("not in the inventory") }
                return .server(try await readServer(entry, timeout: timeout))
            case .haproxy:
                let probe = HAProxyProbe(statsURL: targets.haproxyStatsURL ?? "", backend: targets.haproxyBackend)
                let response = try await http.get(probe.csvURL, timeout: timeout)
                guard response.isSuccess else { return .failed("stats page answered HTTP \(response.status)") }
                return .haproxy(try HAProxyStats(csv: response.text))
            case .redis:
                guard let address = targets.redis else { return .failed("no redis.addr") }
                let connection = try await RedisConnection.connect(to: address, timeout: timeout, pool: pool, onCancel: .abandon)
                defer { connection.close() }
                guard let info = try await connection.send(["INFO"]).string else { return .failed("INFO answered no text") }
                return .redis(info: parseRedisInfo(info))
            case .nats:
                let base = (targets.natsMonitorURL ?? "").trimmingSuffix("/")
                let response = try await http.get(base + "/varz", timeout: timeout)
                guard response.isSuccess else { return .failed("/varz answered HTTP \(response.status)") }
                return .nats(varz: try JSONValue.parse(response.body))
            }
        } catch {
            return .failed(SecretRegistry.shared.scrub(Redactor.redactURL("\(error)")))
        }
    }

    private func readServer(_ entry: ServerEntry, timeout: Duration) async throws -> ServerReading {
        let base = entry.url.trimmingSuffix("/")
        let http = self.http
        async let metrics = http.get(base + "/metrics", timeout: timeout)
        async let ready = Result(catching: { try await http.get(base + "/ready", timeout: timeout) })
        async let health = Result(catching: { try await http.get(base + "/health", timeout: timeout) })
        let (metricsResponse, readyResponse, healthResponse) = try await (metrics, ready, health)
        guard metricsResponse.isSuccess else { throw OpsError(.serverError, "/metrics answered HTTP \(metricsResponse.status)") }
        let families: [MetricFamily]
        do {
            families = try PrometheusTextParser.parse(metricsResponse.body)
        } catch {
            throw OpsError(.protocolError, "/metrics: \(error)")
        }
        let body = (try? healthResponse.get()).flatMap { try? JSONValue.parse($0.body) }
        return ServerReading(
            families: families, readyStatus: (try? readyResponse.get())?.status, version: body?["version"]?.stringValue,
            draining: body?["draining"]?.boolValue ?? false)
    }

    /// Answers `.failed` after `limit` (`withTimeout`; the scraper's connections abandon a cancelled call).
    private func bounded(by limit: Duration, _ body: @escaping @Sendable () async -> ScrapeEvent.Payload) async -> ScrapeEvent.Payload {
        await withTimeout(limit, body) { .failed("no answer within \(limit.humanReadable)") }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
