import ArgumentParser
import Foundation
import OpsKit

struct Rollout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Update every whisper-server through HAProxy with no user noticing.",
        subcommands: [RolloutRun.self, RolloutStatus.self, RolloutHistory.self],
        defaultSubcommand: RolloutRun.self
    )
}

struct RolloutRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Roll every server (what 'whisperctl rollout' does).",
        discussion: """
            Preflight first (every server UP and ready, headroom on the others, Redis and NATS healthy, the \
            operations lock free; a failed preflight changes nothing). Then for each server in turn: HAProxy \
            state drain; the drain signal through its restart driver (clients are evicted paced over \
            DRAIN_SPREAD and resume on the others); wait for 0 connections; start the new version; wait for \
            /ready and HAProxy UP (and --expect-version); HAProxy state ready; soak (error rate and delivery \
            p99 from /metrics). A failed gate stops with the fleet serving; --auto-rollback rolls back what \
            was updated. Ctrl-C brings the server in hand back into service, then stops.
            Exit status: 0 done, 1 stopped safely (preflight, a gate, Ctrl-C), 2 something left not serving.

            Examples:
              whisperctl rollout --dry-run
              whisperctl rollout --expect-version 1.4.2 --soak 30s
              whisperctl rollout --only ws2 --auto-rollback --json
            """
    )

    @OptionGroup var inventory: InventoryOptions
    @OptionGroup var lock: LockOptions

    @Option(
        parsing: .upToNextOption, help: ArgumentHelp("Only these servers (inventory names), in inventory order.", valueName: "name"),
        completion: .custom { words, _, _ in Completions.serverNames(words) })
    var only: [String] = []
    @Option(name: .customLong("max-unavailable"), help: "How many servers are out at once.")
    var maxUnavailable = 1
    @Flag(name: .customLong("start-with-unhealthy"), help: "Update servers that are not serving first, instead of refusing.")
    var startWithUnhealthy = false
    @Option(name: .customLong("drain-timeout"), help: "How long a server may take to lose its clients and exit (then it is stopped by force).")
    var drainTimeout: Duration = .seconds(60)
    @Option(name: .customLong("ready-timeout"), help: "How long the new version may take to be ready and UP in HAProxy.")
    var readyTimeout: Duration = .seconds(60)
    @Option(name: .customLong("expect-version"), help: "The version each updated server must report in /health.")
    var expectVersion: String?
    @Option(help: "How long each updated server is watched before the next one.")
    var soak: Duration = .seconds(10)
    @Flag(name: .customLong("no-soak"), help: "Skip the soak (a fleet without traffic, or a test).")
    var noSoak = false
    @Flag(name: .customLong("soak-idle-ok"), help: "Accept a soak that saw no traffic instead of stopping (a fleet without users).")
    var soakIdleOK = false
    @Option(name: .customLong("max-p99"), help: "Delivery p99 bound during the soak.")
    var maxP99: Duration = .milliseconds(100)
    @Option(name: .customLong("max-error-rate"), help: "Rejected connections and lost messages bound during the soak, as a fraction.")
    var maxErrorRate = 0.01
    @Flag(name: .customLong("auto-rollback"), help: "After a failed gate, roll back the servers already updated (restart.rollback).")
    var autoRollback = false
    @Flag(name: .customLong("dry-run"), help: "Run the preflight and print the plan; change nothing.")
    var dryRun = false
    @Flag(help: "One JSON object per event, one per line.")
    var json = false
    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    func validate() throws {
        guard maxUnavailable >= 1 else { throw ValidationError("--max-unavailable must be at least 1") }
        guard (0...1).contains(maxErrorRate) else { throw ValidationError("--max-error-rate is a fraction between 0 and 1") }
    }

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        var options = RolloutOptions()
        options.only = only
        options.maxUnavailable = maxUnavailable
        options.startWithUnhealthy = startWithUnhealthy
        options.drainTimeout = drainTimeout
        options.readyTimeout = readyTimeout
        options.expectVersion = expectVersion
        options.soak = noSoak ? .zero : soak
        options.acceptIdleSoak = soakIdleOK
        options.maxP99 = maxP99
        options.maxErrorRate = maxErrorRate
        options.autoRollback = autoRollback

        let printer = RolloutPrinter(json: json)
        let state = RolloutStateFile(path: RolloutState.path(for: deployment))
        let stop = StopRequest()
        let conductor: RolloutConductor
        do {
            conductor = try RolloutConductor(
                inventory: deployment, options: options,
                emit: { event in
                    printer.show(event)
                    state.record(event)
                },
                interrupted: { stop.isRequested })
        } catch {
            printError("whisperctl rollout: \(error)")
            throw ExitStatus.unknown
        }

        let preflight = await conductor.preflight()
        printer.preflight(preflight, dryRun: dryRun)
        let rollout = RollOut(
            conductor: conductor, preflight: preflight, stop: stop, started: { order in state.begin(order: order) },
            stopping: { printer.note("stopping: the server in hand is brought back into service first") })
        if dryRun {
            guard preflight.passed else { throw ExitStatus.refused }
            return
        }
        let started = ContinuousClock.now
        let outcome = try await Mutation.run(Mutation.runner(deployment, wait: lock.wait, yes: yes, quiet: json), rollout, command: "rollout")
        let elapsed = (ContinuousClock.now - started).seconds
        state.finish(outcome, seconds: elapsed)
        printer.finish(outcome, seconds: elapsed)
        switch outcome {
        case .completed: return
        case .stopped: throw ExitStatus.refused
        case .unsafe: throw ExitStatus.failed
        }
    }
}

struct RolloutStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "The running or last rollout, server by server. Exit 0 completed, 1 stopped or running, 2 unsafe.")

    @OptionGroup var inventory: InventoryOptions
    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let path = RolloutState.path(for: deployment)
        guard let state = try RolloutState.read(from: path)?.checked else {
            printError("no rollout recorded for \(deployment.deployment) (\(path))")
            throw ExitStatus.nothingToDo
        }
        if json {
            print(try state.json())
        } else {
            let started = ISO8601DateFormatter().string(from: state.startedAt)
            print("rollout \(state.status.rawValue), started \(started)" + (state.seconds.map { String(format: ", %.1f s", $0) } ?? ""))
            if let reason = state.reason { print("  \(reason)") }
            let names = state.order + state.servers.keys.sorted().filter { !state.order.contains($0) }
            for name in names {
                guard let progress = state.servers[name] else { continue }
                print("  \(name): \(progress.step) — \(progress.message)")
            }
        }
        switch state.status {
        case .completed: return
        case .unsafe: throw ExitStatus.critical
        case .running, .stopped, .abandoned: throw ExitStatus.warning
        }
    }
}

struct RolloutHistory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Past rollouts, from the audit log.")

    @OptionGroup var inventory: InventoryOptions
    @Option(help: "How many, newest last.")
    var last = 20
    @Flag(help: "Print JSON lines.")
    var json = false

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let log = AuditLog(path: deployment.auditLogPath, deployment: deployment.deployment)
        guard FileManager.default.fileExists(atPath: log.path) else {
            printError("no audit log at \(log.path)")
            throw ExitStatus.nothingToDo
        }
        let entries = try log.records().filter { $0.command == "rollout" && $0.deployment == deployment.deployment }
        if json {
            for entry in entries.suffix(last) { print(entry.line) }
            return
        }
        let rows = entries.suffix(last).map { entry -> [String] in
            let details = try? JSONValue.parse(Array(entry.line.utf8))
            var versions = "-"
            if case .object(let before)? = details?["versions_before"] {
                let old = Set(before.compactMap { $0.1.stringValue }).sorted().joined(separator: ",")
                versions = (old.isEmpty ? "?" : old) + " -> " + (details?["expected_version"]?.stringValue ?? "?")
            }
            let reason = entry.error.map { ": \($0)" } ?? ""
            return [entry.time, entry.action, entry.target, versions, entry.result + reason, entry.user]
        }
        print(Table(headers: ["TIME", "STEP", "SERVERS", "VERSIONS", "RESULT", "BY"], rows: rows).render())
    }
}
