import ArgumentParser
import Foundation
import OpsKit

struct Scale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Grow or shrink the fleet: a server into or out of HAProxy at run time, the inventory, and the deployment files.",
        discussion: """
            scale add puts a running server into the HAProxy backend through the runtime API (add server, \
            enable health, state ready once its /ready is 200) and appends it to the inventory; scale remove \
            drains it as a rollout does (HAProxy DRAIN, the server's own drain through its restart block, its \
            connections waited out), deletes it from HAProxy and takes it out of the inventory. Both show the \
            matching changes to haproxy.config, prometheus.config and the Compose file of compose-driven \
            servers as a diff, and write them with --write, so a restart keeps the new shape. Both take the \
            operations lock. Exit status: 0 done, 1 refused or nothing to do, 2 failed or stopped short.

            Examples:
              whisperctl scale add ws3 --url http://wsserver-3:8080 --dry-run
              whisperctl scale add ws3 --url http://wsserver-3:8080 --write --yes
              whisperctl scale remove ws3 --write
            """,
        subcommands: [ScaleAddCommand.self, ScaleRemoveCommand.self]
    )

    /// What both subcommands share: plan shown (steps and diffs), then run through the runner.
    static func execute<O: OpsOperation>(
        _ operation: O, options: ScaleOptions, lock: LockOptions, outcome render: (O.Outcome) -> (JSONValue, String?)
    ) async throws {
        let deployment = try options.inventory.loadOrExit(json: options.json)
        let runner = Mutation.runner(deployment, wait: lock.wait, yes: options.yes, quiet: options.json)
        let done: Bool
        do { done = try await runner.check(operation) } catch {
            printError("whisperctl scale: \(error)")
            throw ExitStatus(error)
        }
        if done {
            if options.json { print(JSONValue.object([("server", .string(operation.target)), ("done_already", .bool(true))]).prettyPrinted()) }
            else { print("nothing to do: \(operation.target) is in place already") }
            throw ExitStatus.nothingToDo
        }
        let plan = try await Mutation.plan(runner, operation, command: "scale")
        if !options.json {
            print("scale \(operation.action) \(operation.target):")
            for step in plan.steps { print("  - \(step)") }
        }
        if options.dryRun {
            if options.json { print(JSONValue.object([("dry_run", .bool(true)), ("steps", .array(plan.steps.map { .string($0) }))]).prettyPrinted()) }
            return
        }
        let result = try await Mutation.run(runner, operation, command: "scale")
        let (json, stopped) = render(result)
        if options.json { print(json.prettyPrinted()) }
        if let stopped {
            printError("whisperctl scale: stopped: \(stopped)")
            throw ExitStatus.failed
        }
    }

    static func render(_ outcome: ScaleOutcome, json: Bool) -> (JSONValue, String?) {
        if !json {
            for (index, change) in outcome.changes.enumerated() where !change.isEmpty {
                let written = outcome.stopped == nil && (outcome.written || index == 0)
                print("\n\(written ? "written" : "to apply (--write, or by hand)"): \(change.path)")
                print(change.diff, terminator: "")
            }
            if outcome.stopped == nil { print("\ndone: \(outcome.server)") }
        }
        return (outcome.json, outcome.stopped)
    }
}

struct ScaleOptions: ParsableArguments {
    @OptionGroup var inventory: InventoryOptions

    @Flag(help: "Also write the changes to haproxy.config, prometheus.config and the Compose file (default: show them as a diff).")
    var write = false

    @Flag(help: "Show the plan and change nothing.")
    var dryRun = false

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    @Flag(help: "Print JSON.")
    var json = false
}

struct ScaleAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a running server to HAProxy's backend and the inventory.")

    @Argument(help: ArgumentHelp("The server's name (HAProxy's and the inventory's).", valueName: "name"))
    var name: String

    @Option(help: ArgumentHelp("Its base URL, http://HOST:PORT (HAProxy sends to HOST:PORT).", valueName: "url"))
    var url: String

    @Option(name: .customLong("ready-timeout"), help: ArgumentHelp("How long to wait for its /ready to answer 200.", valueName: "duration"))
    var readyTimeout: Duration = .seconds(60)

    @OptionGroup var options: ScaleOptions
    @OptionGroup var lock: LockOptions

    func run() async throws {
        var operation = ScaleAdd(name: name, url: url.hasSuffix("/") ? String(url.dropLast()) : url, write: options.write)
        operation.readyTimeout = readyTimeout
        try await Scale.execute(operation, options: options, lock: lock) { Scale.render($0, json: options.json) }
    }
}

struct ScaleRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Drain a server, then take it out of HAProxy's backend and the inventory.")

    @Argument(help: ArgumentHelp("The server's name in the inventory.", valueName: "name"), completion: .custom { words, _, _ in Completions.serverNames(words) })
    var name: String

    @Option(name: .customLong("drain-timeout"), help: ArgumentHelp("How long its users have to leave before it stops short (it stays in DRAIN).", valueName: "duration"))
    var drainTimeout: Duration = .seconds(120)

    @OptionGroup var options: ScaleOptions
    @OptionGroup var lock: LockOptions

    func run() async throws {
        var operation = ScaleRemove(name: name, write: options.write)
        operation.drainTimeout = drainTimeout
        try await Scale.execute(operation, options: options, lock: lock) { Scale.render($0, json: options.json) }
    }
}
