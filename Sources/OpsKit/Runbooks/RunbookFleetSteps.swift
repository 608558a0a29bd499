import Foundation

/// A rollout that ended with a server not serving, or that a gate or Ctrl-C stopped.
struct RolloutDidNotComplete: Error, CustomStringConvertible {
    var outcome: RolloutOutcome
    var description: String {
        switch outcome {
        case .completed: "completed"
        case .stopped(let why): "stopped with the fleet serving: \(why)"
        case .unsafe(let why): "UNSAFE: \(why)"
        }
    }
}

/// `rollout` (the fleet, or `only` some) and `server.restart` (one server): the rolling update's
/// conductor with the inventory's restart drivers, each server drained in HAProxy and by its own
/// drain, restarted, waited for and soaked. Sessions on a restarted server are cut and resume
/// elsewhere: DESTRUCTIVE. The plan runs the preflight (reads only) and shows each driver's
/// commands.
struct RolloutStep: RunbookStepAction {
    var arguments: RunbookArguments
    /// `server.restart`: exactly `with.server`.
    var single: Bool
    var effect: RunbookEffect { .destructive }

    private func options() throws -> RolloutOptions {
        var options = RolloutOptions()
        options.only = single ? [try arguments.required("server")] : arguments.list("only")
        options.maxUnavailable = try arguments.number("max_unavailable").map { Int($0) } ?? 1
        options.expectVersion = arguments.string("expect_version")
        options.soak = try arguments.duration("soak", default: options.soak)
        options.drainTimeout = try arguments.duration("drain_timeout", default: options.drainTimeout)
        options.readyTimeout = try arguments.duration("ready_timeout", default: options.readyTimeout)
        options.maxP99 = try arguments.duration("max_p99", default: options.maxP99)
        options.maxErrorRate = try arguments.number("max_error_rate") ?? options.maxErrorRate
        options.acceptIdleSoak = arguments.bool("accept_idle_soak") ?? false
        options.autoRollback = arguments.bool("auto_rollback") ?? false
        options.startWithUnhealthy = arguments.bool("start_with_unhealthy") ?? false
        guard options.maxUnavailable >= 1 else { throw StepCheckFailed(description: "step '\(arguments.step)': with.max_unavailable must be at least 1") }
        return options
    }

    private func conductor(_ context: RunbookStepContext, stop: StopRequest) throws -> RolloutConductor {
        let progress = context.progress
        return try RolloutConductor(
            inventory: context.inventory, options: try options(),
            emit: { event in
                guard event.kind != .progress else { return }
                progress([event.server, event.message].compactMap { $0 }.joined(separator: ": "))
            },
            interrupted: { stop.isRequested })
    }

    private var what: String { single ? "restart \(arguments.string("server") ?? "?")" : "roll " + (arguments.list("only").isEmpty ? "every server" : arguments.list("only").joined(separator: ", ")) }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        do {
            let conductor = try conductor(context, stop: StopRequest())
            let preflight = await conductor.preflight()
            let soak = conductor.options.soak
            var lines = preflight.order.map { name in
                let commands = preflight.commands[name].map { " (\($0.joined(separator: "; ")))" } ?? ""
                return "\(name): drain in \(context.inventory.haproxyBackend), restart\(commands), wait for /ready and UP, soak \(soak.humanReadable)"
            }
            if lines.isEmpty { lines = ["nothing to restart"] }
            let description = "\(what), cutting its sessions (they resume on the others): " + lines.joined(separator: "; ")
            guard preflight.passed else {
                return RunbookPreview(effect: .destructive, description: description, current: "preflight FAILS now: " + preflight.problems.joined(separator: "; "))
            }
            let versions = preflight.observations.filter { preflight.order.contains($0.name) }.map { "\($0.name) \($0.version ?? "?") \($0.haproxyState?.rawValue ?? "?")" }
            return RunbookPreview(effect: .destructive, description: description, current: "preflight passes now: " + versions.joined(separator: ", "))
        } catch {
            return RunbookPreview(effect: .destructive, description: what, problem: "\(error)")
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let stop = StopRequest()
        let conductor = try conductor(context, stop: stop)
        let preflight = await conductor.preflight()
        guard preflight.passed else { throw StepCheckFailed(description: "preflight: " + preflight.problems.joined(separator: "; ")) }
        let outcome = try await context.operations.run(RollOut(conductor: conductor, preflight: preflight, stop: stop), confirmed: true)
        guard outcome == .completed else { throw RolloutDidNotComplete(outcome: outcome) }
        let observations = (try? await conductor.observer.observeAll()) ?? []
        let versions = preflight.order.map { name in "\(name) \(observations.first { $0.name == name }?.version ?? "?")" }
        return RunbookStepOutput(
            outputs: ["servers": .list(preflight.order.map(RunbookValue.string)), "versions": .list(versions.map(RunbookValue.string))],
            summary: preflight.order.isEmpty ? "every server already up to date" : "\(single ? "restarted" : "rolled") \(versions.joined(separator: ", "))")
    }

    /// Only a version tells a restarted server from one that was not: without `expect_version`
    /// the kind cannot tell (a resume then asks the operator).
    func check(in context: RunbookStepContext) async throws -> Bool? {
        guard arguments.string("expect_version") != nil else { return nil }
        let conductor = try conductor(context, stop: StopRequest())
        let preflight = await conductor.preflight()
        let operation = RollOut(conductor: conductor, preflight: preflight, stop: StopRequest())
        return try await operation.check(in: context.operations.context(for: operation))
    }
}

/// `scale`: `action: add` (with `url`) or `action: remove` of `server`, the operation
/// `whisperctl scale` runs. A removal drains the server's users onto the others: DESTRUCTIVE.
struct ScaleStep: RunbookStepAction {
    var arguments: RunbookArguments
    var effect: RunbookEffect { arguments.string("action") == "remove" ? .destructive : .mutate }

    private enum Operation {
        case add(ScaleAdd)
        case remove(ScaleRemove)
    }

    private func operation() throws -> Operation {
        let server = try arguments.required("server")
        let write = arguments.bool("write") ?? false
        switch arguments.string("action") {
        case "add":
            var add = ScaleAdd(name: server, url: try arguments.required("url"), write: write)
            add.readyTimeout = try arguments.duration("ready_timeout", default: add.readyTimeout)
            return .add(add)
        case "remove":
            var remove = ScaleRemove(name: server, write: write)
            remove.drainTimeout = try arguments.duration("drain_timeout", default: remove.drainTimeout)
            return .remove(remove)
        case let other:
            throw StepCheckFailed(description: "step '\(arguments.step)': with.action is '\(other ?? "")'; it is add or remove")
        }
    }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        do {
            let plan: OperationPlan
            switch try operation() {
            case .add(let add): plan = try await context.operations.plan(add)
            case .remove(let remove): plan = try await context.operations.plan(remove)
            }
            return RunbookPreview(effect: effect, description: plan.steps.joined(separator: "; "))
        } catch {
            return RunbookPreview(effect: effect, description: "scale \(arguments.string("action") ?? "?") \(arguments.string("server") ?? "?")", problem: "\(error)")
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let outcome: ScaleOutcome
        switch try operation() {
        case .add(let add): outcome = try await context.operations.run(add, confirmed: true)
        case .remove(let remove): outcome = try await context.operations.run(remove, confirmed: true)
        }
        if let stopped = outcome.stopped { throw StepCheckFailed(description: "stopped: \(stopped)") }
        let files = outcome.changes.map(\.path)
        return RunbookStepOutput(
            outputs: ["server": .string(outcome.server), "files": .list(files.map(RunbookValue.string))],
            summary: "\(arguments.string("action") ?? "") \(outcome.server): " + outcome.steps.joined(separator: "; "))
    }

    func check(in context: RunbookStepContext) async throws -> Bool? {
        switch try operation() {
        case .add(let add): try await add.check(in: context.operations.context(for: add))
        case .remove(let remove): try await remove.check(in: context.operations.context(for: remove))
        }
    }
}
