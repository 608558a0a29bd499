import ArgumentParser
import Foundation
import OpsKit

struct Dashboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The live view: every server's /metrics, HAProxy, Redis and NATS on one screen.",
        discussion: """
            Scrapes each endpoint every --interval on its own schedule (a slow one shows as WAIT, a dead one \
            as DOWN, without holding up the rest). Keys: q quit, ? help, arrows select, Enter an instance's \
            metrics (/ filters), Tab panels, p pause, +/- interval, d drain and r ready through HAProxy's \
            runtime API (haproxy.runtime_api) after a y/N, each written to the audit log (audit.log).
            See docs/dashboard.md for the panels and the alert rules.

            Examples:
              whisperctl dashboard
              whisperctl dashboard --config prod.yml --interval 2s --read-only
            """
    )

    @OptionGroup var inventory: InventoryOptions

    @Option(help: ArgumentHelp("How often to scrape, e.g. 1s or 500ms.", valueName: "duration"))
    var interval: Duration = .seconds(1)

    @Option(help: ArgumentHelp("Rates and quantiles cover this much recent time.", valueName: "duration"))
    var window: Duration = .seconds(10)

    @Option(help: ArgumentHelp("Time limit for each scrape.", valueName: "duration"))
    var timeout: Duration = .seconds(2)

    @Flag(help: "Disable drain and ready.")
    var readOnly = false

    @Flag(help: "Drain and ready even while another command holds the operations lock (a backup, a migration); audited as overriding it.")
    var emergency = false

    func validate() throws {
        if interval < .milliseconds(100) { throw ValidationError("--interval needs at least 100ms") }
        if window < interval { throw ValidationError("--window must be at least --interval") }
    }

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: false)
        guard DashboardTUI.terminalAvailable else {
            printError("whisperctl dashboard needs a terminal; for scripts use 'whisperctl top' or 'whisperctl top --once --json'")
            throw ExitStatus.usage
        }
        let targets = try DashboardTargets(inventory: deployment)
        var actions: DashboardActions?
        var unavailable: String? = "no haproxy.runtime_api in the inventory"
        if let address = deployment.haproxyRuntimeAPI, !address.isEmpty {
            do {
                _ = try OperationsLock.backend(for: deployment)
                // Audit failures reach the screen through the action's line, never stderr under curses.
                var runner = OperationRunner(inventory: deployment)
                runner.trapsSignals = false
                runner.takesPrecedence = emergency
                actions = DashboardActions(runtime: try HAProxyRuntimeAPI(parsing: address), backend: deployment.haproxyBackend, runner: runner)
                unavailable = nil
            } catch {
                unavailable = "haproxy.runtime_api: \(error)"
            }
        }
        let scraper = DeploymentScraper(targets: targets, interval: interval, timeout: timeout)
        let tui = try DashboardTUI(
            scraper: scraper, window: window.seconds, ui: DashboardUI(interval: interval, readOnly: readOnly, actionsUnavailable: unavailable),
            actions: actions)
        let ending = try await tui.run()
        if case .signal(let number) = ending { throw ExitStatus.signal(number) }
    }
}
