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
            certificate files are probed concurrently, each within --timeout.
            Exit status: 0 ok, 1 warning, 2 critical, 3 unknown (e.g. the configuration cannot be read).
            """
    )

    @OptionGroup var inventory: InventoryOptions

    @Flag(help: "Print one JSON object (see docs/status-json.md).")
    var json = false

    @Option(help: ArgumentHelp("Time limit for each probe, e.g. 2s or 500ms.", valueName: "duration"))
    var timeout: Duration = .seconds(2)

    @Option(defaultAsFlag: 2, help: ArgumentHelp("Re-run every N seconds until Ctrl-C.", valueName: "seconds"))
    var watch: Int?

    @Flag(help: "Accept self-signed TLS certificates on HTTPS endpoints.")
    var insecure = false

    func validate() throws {
        if let watch, watch < 1 { throw ValidationError("--watch needs at least 1 second") }
    }

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        let runner = StatusRunner(
            inventory: deployment,
            environment: ProbeEnvironment(timeout: timeout, insecureTLS: insecure, pool: pool))
        if let watch {
            try await watchLoop(runner, every: .seconds(watch))
        }
        let report = await runner.run()
        print(render(report))
        if report.overall != .ok { throw ExitCode(report.overall.exitCode) }
    }

    private func render(_ report: StatusReport) -> String {
        json ? report.json.prettyPrinted() : StatusRendering(terminal: .standardOutput(), timeout: timeout).render(report)
    }

    /// Redraws in place on a terminal, appends otherwise (one JSON object per line with --json).
    /// Ctrl-C restores the cursor and exits with the last verdict's code.
    private func watchLoop(_ runner: StatusRunner, every interval: Duration) async throws -> Never {
        let terminal = Terminal.standardOutput()
        let lastExit = NIOLockedValueBox<Int32>(HealthStatus.unknown.exitCode)
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupt.setEventHandler {
            if terminal.isTTY { FileHandle.standardOutput.write(Data("\u{1B}[?25h\n".utf8)) }
            Foundation.exit(lastExit.withLockedValue { $0 })
        }
        interrupt.resume()
        while true {
            let report = await runner.run()
            lastExit.withLockedValue { $0 = report.overall.exitCode }
            if json {
                print(report.json.serialized())
            } else if terminal.isTTY {
                print("\u{1B}[?25l\u{1B}[H\u{1B}[2J" + render(report) + "\n\nEvery \(interval.humanReadable). Ctrl-C to stop.")
            } else {
                print(render(report) + "\n")
            }
            fflush(nil)
            try await Task.sleep(for: interval)
        }
    }
}
