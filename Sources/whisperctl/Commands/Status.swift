import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import OpsKit

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe every component of the deployment at once.",
        discussion: """
            Servers (/health, /ready), HAProxy (stats CSV), Redis, NATS (/healthz, /varz), PostgreSQL and \
            certificate files are probed concurrently, each within --timeout. Name components (or kinds: server, \
            haproxy, redis, nats, postgres, cert) to probe only those.
            Exit status: 0 ok, 1 warning, 2 critical, 3 unknown (e.g. the configuration has errors).

            Examples:
              whisperctl status
              whisperctl status redis ws1 --timeout 500ms
              whisperctl status --watch 5s
              whisperctl status --json | jq '.components[] | select(.status != "ok")'
            """
    )

    @OptionGroup var inventory: InventoryOptions

    @Argument(
        help: ArgumentHelp("Components to probe (names or kinds); all when none.", valueName: "component"),
        completion: .custom { words, _, _ in Status.completionNames(words) })
    var components: [String] = []

    @Flag(help: "Print one JSON object (see docs/status-json.md).")
    var json = false

    @Option(help: ArgumentHelp("Time limit for each probe, e.g. 2s or 500ms.", valueName: "duration"))
    var timeout: Duration = .seconds(2)

    // A string, checked in `validate`: a typed option with a flag default would quietly take the
    // default for a value it cannot parse (`--watch=0`).
    @Option(name: .customLong("watch"), defaultAsFlag: "2s", help: ArgumentHelp("Re-run every interval (default 2s) until Ctrl-C.", valueName: "duration"))
    var watchArgument: String?

    /// The --watch interval.
    var watch: Duration? { watchArgument.flatMap(Duration.init(parsing:)) }

    @Flag(help: "Accept self-signed TLS certificates on HTTPS endpoints.")
    var insecure = false

    func validate() throws {
        guard let watchArgument else { return }
        guard let interval = Duration(parsing: watchArgument) else {
            throw ValidationError("--watch expects a duration such as 2s or 500ms, got '\(watchArgument)'")
        }
        if interval < .milliseconds(200) { throw ValidationError("--watch needs at least 200ms") }
    }

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        let runner = StatusRunner(
            inventory: deployment, environment: ProbeEnvironment(timeout: timeout, insecureTLS: insecure, pool: pool), only: components)
        let unknown = runner.unknownNames
        guard unknown.isEmpty else {
            throw ValidationError("no component named \(unknown.joined(separator: ", ")); known: \(runner.componentNames.joined(separator: ", "))")
        }
        if let watch {
            try await StatusWatch(runner: runner, interval: watch, json: json, timeout: timeout).run()
        }
        let report = await runner.run()
        print(json ? report.json.prettyPrinted() : StatusRendering(terminal: .standardOutput(), timeout: timeout).render(report))
        if report.overall != .ok { throw ExitStatus(report.overall) }
    }

    /// Component names of the inventory in the working directory, for shell completion: each once,
    /// and only those that are one shell word (`cert certs/combined.pem` is selected as `cert`).
    static func completionNames(_ words: [String]) -> [String] {
        guard let deployment = Completions.inventory(words) else { return [] }
        let runner = StatusRunner(inventory: deployment, environment: ProbeEnvironment())
        var seen = Set<String>()
        return (runner.componentNames + ComponentKind.allCases.map(\.rawValue)).filter { name in
            !name.contains(where: \.isWhitespace) && seen.insert(name).inserted
        }
    }
}

/// `status --watch`: redraws in place on a terminal (what changed since the last refresh marked,
/// with when each component last changed), appends otherwise (one JSON object per line with
/// --json). Ctrl-C, SIGTERM and SIGHUP restore the cursor and exit with the last verdict's code.
struct StatusWatch {
    var runner: StatusRunner
    var interval: Duration
    var json: Bool
    var timeout: Duration

    func run() async throws -> Never {
        let terminal = Terminal.standardOutput()
        let lastExit = NIOLockedValueBox<Int32>(HealthStatus.unknown.exitCode)
        // Stopping a watch is its normal end: the cursor back, the last verdict as the status.
        let trap = SignalTrap { _ in
            if terminal.isTTY { FileHandle.standardOutput.write(Data("\u{1B}[?25h\n".utf8)) }
            Foundation.exit(lastExit.withLockedValue { $0 })
        }
        var previous: [String: HealthStatus] = [:]
        var refreshes = 0
        var lastChange: [String: Date] = [:]
        let started = Date()
        while true {
            // The watch ends only by that signal: the trap must live as long as the loop.
            withExtendedLifetime(trap) {}
            let report = await runner.run()
            lastExit.withLockedValue { $0 = report.overall.exitCode }
            var changes: [String] = []
            for component in report.components {
                if let before = previous[component.name], before != component.status {
                    changes.append("\(component.name) \(before.rawValue.uppercased()) → \(component.status.rawValue.uppercased())")
                    lastChange[component.name] = report.checkedAt
                } else if previous[component.name] == nil {
                    lastChange[component.name] = lastChange[component.name] ?? started
                }
                previous[component.name] = component.status
            }
            if json {
                print(report.json.serialized())
            } else {
                var text = StatusRendering(terminal: terminal, timeout: timeout, lastChange: lastChange).render(report)
                let first = refreshes == 0
                refreshes += 1
                text += "\n\n" + (first ? "first check" : changes.isEmpty ? "no change since the last refresh" : "changed: " + changes.joined(separator: ", "))
                text += "\nEvery \(interval.humanReadable). Ctrl-C to stop."
                print(terminal.isTTY ? "\u{1B}[?25l\u{1B}[H\u{1B}[2J" + text : text + "\n")
            }
            fflush(nil)
            try await Task.sleep(for: interval)
        }
    }
}
