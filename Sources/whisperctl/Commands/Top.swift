import ArgumentParser
import Foundation
import OpsKit

struct Top: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The dashboard's numbers as text: once for scripts, or refreshed plain lines.",
        discussion: """
            --once scrapes everything twice, --interval apart, so rates and latency quantiles are measured, \
            prints one snapshot and exits 0 when no alert fires, 1 on a warning, 2 on a critical alert, \
            3 when the inventory lists no servers. An instance that does not answer is a critical alert. Without --once it prints a snapshot every \
            --interval until Ctrl-C, rates over --window.

            Examples:
              whisperctl top --once
              whisperctl top --once --json | jq '.fleet.connections'
              whisperctl top --interval 5s
            """
    )

    @OptionGroup var inventory: InventoryOptions

    @Flag(help: "Print one snapshot and exit.")
    var once = false

    @Flag(help: "Print JSON (one object per snapshot).")
    var json = false

    @Option(help: ArgumentHelp("Time between scrapes.", valueName: "duration"))
    var interval: Duration = .seconds(1)

    @Option(help: ArgumentHelp("Rates and quantiles cover this much recent time (without --once).", valueName: "duration"))
    var window: Duration = .seconds(10)

    @Option(help: ArgumentHelp("Time limit for each scrape.", valueName: "duration"))
    var timeout: Duration = .seconds(2)

    func validate() throws {
        if interval < .milliseconds(100) { throw ValidationError("--interval needs at least 100ms") }
    }

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let scraper = DeploymentScraper(targets: try DashboardTargets(inventory: deployment), interval: interval, timeout: timeout)
        let terminal = Terminal.standardOutput()
        if once {
            var model = DashboardModel(targets: scraper.targets, window: interval.seconds)
            let snapshot = await TopSampler(scraper: scraper).snapshot(into: &model, gap: interval)
            print(json ? snapshot.json.prettyPrinted() : TopRendering(terminal: terminal).render(snapshot))
            throw ExitCode(TopSampler.exitCode(snapshot))
        }
        var model = DashboardModel(targets: scraper.targets, window: window.seconds)
        let clock = ContinuousClock()
        while true {
            let started = clock.now
            for event in await scraper.scrapeOnce() { model.apply(event) }
            let now = Date().timeIntervalSince1970
            model.tick(at: now)
            let snapshot = model.snapshot(at: now)
            if json {
                print(snapshot.json.serialized())
            } else {
                let text = TopRendering(terminal: terminal).render(snapshot)
                print(terminal.isTTY ? "\u{1B}[H\u{1B}[2J" + text + "\n\nEvery \(interval.humanReadable). Ctrl-C to stop." : text + "\n")
            }
            fflush(nil)
            try await Task.sleep(until: started + interval, clock: clock)
        }
    }
}

/// Two scrapes a gap apart: enough for rates and quantiles of what happened in between.
struct TopSampler {
    let scraper: DeploymentScraper

    func snapshot(into model: inout DashboardModel, gap: Duration) async -> DashboardSnapshot {
        let clock = ContinuousClock()
        let started = clock.now
        for event in await scraper.scrapeOnce() { model.apply(event) }
        model.tick(at: Date().timeIntervalSince1970)
        try? await Task.sleep(until: started + gap, clock: clock)
        for event in await scraper.scrapeOnce() { model.apply(event) }
        let now = Date().timeIntervalSince1970
        model.tick(at: now)
        return model.snapshot(at: now)
    }

    /// 0 no alert, 1 warning, 2 critical (an instance that does not answer is one), 3 nothing
    /// to measure (no servers in the inventory).
    static func exitCode(_ snapshot: DashboardSnapshot) -> Int32 {
        if snapshot.fleet.instances == 0 { return 3 }
        switch snapshot.worstSeverity {
        case .critical?: return 2
        case .warning?: return 1
        case nil: return 0
        }
    }
}
