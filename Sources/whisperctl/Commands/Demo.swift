import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import OpsKit
import WhisperServerCore

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A real whisper-server with simulated users, and the dashboard on it. Needs nothing else.",
        discussion: """
            Starts whisper-server inside this process on a free 127.0.0.1 port (embedded state), plus simulated \
            users who queue, match, type, chat, sometimes report, and leave, at a gentle pace that swells and \
            bursts. Opens the dashboard on it (q or Ctrl-C stops everything), or with --no-tui, or without a \
            terminal, prints a `top` snapshot every --interval. Exits 1 if nobody matched or no message got \
            through.

            Examples:
              whisperctl demo
              whisperctl demo --no-tui --duration 10s
            """
    )

    @Flag(help: "Print top snapshots instead of opening the dashboard.")
    var noTui = false

    @Option(help: ArgumentHelp("Stop after this long, e.g. 30s (default: until q or Ctrl-C).", valueName: "duration"))
    var duration: Duration?

    @Option(help: ArgumentHelp("How many simulated users.", valueName: "n"))
    var users = 60

    @Option(help: ArgumentHelp("Refresh interval.", valueName: "duration"))
    var interval: Duration = .seconds(1)

    func validate() throws {
        if !(1...2000).contains(users) { throw ValidationError("--users must be 1 to 2000") }
        if let duration, duration < .seconds(1) { throw ValidationError("--duration needs at least 1s") }
        if interval < .milliseconds(100) { throw ValidationError("--interval needs at least 100ms") }
    }

    /// The server's settings for a crowd that all comes from 127.0.0.1.
    static let serverEnvironment = [
        "LISTEN_ADDR": "127.0.0.1:0", "SERVER_NAME": "demo", "EVENT_LOOP_THREADS": "1",
        // One address for every simulated user: no per-IP cap, and reports never ban it.
        "MAX_CONNS_PER_IP": "100000", "REPORTS_TO_BAN": "1000000000",
        "MATCH_FALLBACK": "2s", "DRAIN_GRACE": "0s", "DRAIN_SPREAD": "0s", "DRAIN_TIMEOUT": "5s",
    ]

    func run() async throws {
        let started = ContinuousClock.now
        let logger = Logger(label: "demo", factory: { _ in SwiftLogNoOpLogHandler() })
        let server: InProcessServer
        do {
            server = try await InProcessServer.start(environment: Self.serverEnvironment, logger: logger)
        } catch {
            printError("whisperctl demo: cannot start whisper-server: \(error)")
            throw ExitStatus.notPassed
        }
        let crowd = DemoCrowd(port: server.port, users: users)
        let crowdTask = Task { await crowd.run() }
        let targets = DashboardTargets(
            deployment: "demo", servers: [ServerEntry(name: "demo", url: "http://127.0.0.1:\(server.port)", source: .builtInDefault)])
        let scraper = DeploymentScraper(targets: targets, interval: interval)
        var interruption: Int32?
        do {
            if !noTui && DashboardTUI.terminalAvailable {
                let ui = DashboardUI(interval: interval, actionsUnavailable: "the demo has no HAProxy; see docs/dashboard.md")
                let tui = try DashboardTUI(
                    scraper: scraper, window: 10, ui: ui, actions: nil, duration: duration,
                    banner: { Self.describe(crowd.stats, users: crowd.users, port: server.port) })
                if case .signal(let number) = try await tui.run() { interruption = number }
            } else {
                interruption = await printSnapshots(scraper: scraper, crowd: crowd, port: server.port)
            }
        } catch {
            printError("whisperctl demo: \(error)")
        }
        crowdTask.cancel()
        await crowdTask.value
        await server.stop()
        let stats = crowd.stats
        let elapsed = ContinuousClock.now - started
        print("demo: ran \(elapsed.humanReadable): \(users) simulated users, \(stats.matches) matches, \(stats.sent) messages sent, "
            + "\(stats.received) received, \(stats.reports) reports, \(stats.errors) errors\(stats.lastError.map { " (last: \($0))" } ?? "")")
        if let interruption { throw ExitStatus.signal(interruption) }
        guard stats.matches > 0, stats.received > 0 else {
            printError("whisperctl demo: nothing happened: \(stats.matches) matches, \(stats.received) messages delivered")
            throw ExitStatus.notPassed
        }
    }

    static func describe(_ stats: DemoCrowd.Stats, users: Int, port: Int) -> String {
        "demo: whisper-server on 127.0.0.1:\(port) · \(stats.online)/\(users) simulated users online · \(stats.matches) matches · "
            + "\(stats.sent) messages · \(stats.reports) reports · \(stats.errors) errors"
    }

    /// `--no-tui`: a top snapshot per interval until --duration or a signal (returned).
    private func printSnapshots(scraper: DeploymentScraper, crowd: DemoCrowd, port: Int) async -> Int32? {
        let signalled = NIOLockedValueBox<Int32?>(nil)
        let trap = SignalTrap { number in signalled.withLockedValue { $0 = $0 ?? number } }
        defer { trap.remove() }
        var model = DashboardModel(targets: scraper.targets, window: 10)
        let clock = ContinuousClock()
        let deadline = duration.map { clock.now + $0 }
        let terminal = Terminal.standardOutput()
        while true {
            let tick = clock.now
            for event in await scraper.scrapeOnce() { model.apply(event) }
            let now = Date().timeIntervalSince1970
            model.tick(at: now)
            print(Self.describe(crowd.stats, users: crowd.users, port: port))
            print(TopRendering(terminal: terminal).render(model.snapshot(at: now)) + "\n")
            fflush(nil)
            var next = tick + interval
            if let deadline { next = min(next, deadline) }
            // Sleep in short steps so a signal is noticed quickly.
            while clock.now < next, signalled.withLockedValue({ $0 }) == nil {
                try? await Task.sleep(for: min(.milliseconds(100), next - clock.now))
            }
            if let number = signalled.withLockedValue({ $0 }) { return number }
            if let deadline, clock.now >= deadline { return nil }
        }
    }
}
