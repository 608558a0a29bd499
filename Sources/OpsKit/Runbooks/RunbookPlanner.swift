import Foundation

/// The honest dry run: every step with its effect class and its exact effect on this
/// inventory. Reads before the first change run here, so branches resolve on real findings;
/// what comes after a change, or cannot be known, says which step it waits for. A `shell` is
/// always NOT PREVIEWED, never skipped in silence. Nothing that changes anything is called.
public struct RunbookPlanner: Sendable {
    public var runbook: Runbook
    public var parameters: RunbookParameters
    public var inventory: Inventory
    public var environment: ProbeEnvironment
    public var whisperctlVersion: String

    public init(runbook: Runbook, parameters: RunbookParameters, inventory: Inventory, environment: ProbeEnvironment, whisperctlVersion: String) {
        self.runbook = runbook
        self.parameters = parameters
        self.inventory = inventory
        self.environment = environment
        self.whisperctlVersion = whisperctlVersion
    }

    public func plan() async throws -> RunbookPlan {
        var walk = Walk(planner: self, scope: RunbookEvaluationScope(parameters: parameters.values, inventory: inventory))
        for precondition in runbook.preconditions {
            switch try walk.scope.truth(precondition.condition) {
            case false?:
                walk.lines.append(RunbookPlan.Line(
                    key: "precondition", kind: "precondition", effect: .read, description: precondition.condition.text,
                    problem: "does not hold: \(precondition.message.isEmpty ? precondition.condition.text : precondition.message)", depth: 0))
            default: break
            }
        }
        try await walk.steps(runbook.steps, depth: 0, suffix: "")
        let fingerprint = RunbookPlan.Fingerprint(
            runbook: Digest.sha256Hex(runbook.text), inventory: inventory.fingerprint,
            parameters: Digest.sha256Hex(parameters.recorded.keys.sorted().map { "\($0)=\(parameters.recorded[$0]!)" }.joined(separator: "\n")),
            facts: walk.facts)
        return RunbookPlan(runbook: runbook.name, path: runbook.path, parameters: parameters.recorded, lines: walk.lines, fingerprint: fingerprint)
    }

    private struct Walk {
        let planner: RunbookPlanner
        var scope: RunbookEvaluationScope
        var lines: [RunbookPlan.Line] = []
        var facts: [String: String] = [:]
        /// The first change planned: later reads cannot be known before it runs.
        var firstChange: String?
        /// A verdict known to be reached: what follows does not run.
        var ended: String?

        mutating func steps(_ steps: [Runbook.Step], depth: Int, suffix: String) async throws {
            var skipUntil: (target: String, branch: String)?
            for step in steps {
                let key = step.name + suffix
                if let ended {
                    lines.append(RunbookPlan.Line(key: key, kind: step.kind?.rawValue ?? "group", effect: step.kind?.effect ?? .read, description: "", skipped: ended, depth: depth))
                    continue
                }
                if let skip = skipUntil {
                    if step.name != skip.target {
                        lines.append(RunbookPlan.Line(key: key, kind: step.kind?.rawValue ?? "group", effect: step.kind?.effect ?? .read, description: "", skipped: "branch '\(skip.branch)' goes to '\(skip.target)'", depth: depth))
                        scope.results[step.name] = nil
                        continue
                    }
                    skipUntil = nil
                }
                var condition: String?
                if let when = step.when {
                    switch try scope.truth(when) {
                    case false?:
                        lines.append(RunbookPlan.Line(key: key, kind: step.kind?.rawValue ?? "group", effect: step.kind?.effect ?? .read, description: "", skipped: "when: \(when.text) is false", depth: depth))
                        continue
                    case nil:
                        if case .unknown(let reason) = try scope.evaluate(when) { condition = "runs if \(when.text) (\(reason))" }
                    default: break
                    }
                }
                if let loop = step.forEach {
                    try await group(step, loop: loop, key: key, depth: depth, condition: condition)
                    continue
                }
                guard let kind = step.kind else { continue }
                if kind == .branch {
                    skipUntil = try branch(step, key: key, depth: depth, condition: condition).map { ($0, step.name) }
                    continue
                }
                try await action(step, kind: kind, key: key, depth: depth, condition: condition)
            }
        }

        mutating func group(_ step: Runbook.Step, loop: Located<RunbookExpression>, key: String, depth: Int, condition: String?) async throws {
            switch try scope.evaluate(loop) {
            case .known(let value):
                let items: [RunbookValue] = if case .list(let items) = value { items } else { [value] }
                lines.append(RunbookPlan.Line(key: key, kind: "for_each", effect: .read, description: "for each of \(loop.text): \(items.map(\.text).joined(separator: ", "))", condition: condition, depth: depth))
                for item in items {
                    scope.loops[step.loopName] = item
                    try await steps(step.steps, depth: depth + 1, suffix: "[\(item.text)]")
                }
            case .unknown(let reason):
                lines.append(RunbookPlan.Line(key: key, kind: "for_each", effect: .read, description: "for each of \(loop.text)", current: "the list is \(reason)", condition: condition, depth: depth))
                scope.loops[step.loopName] = .string("(\(loop.text))")
                try await steps(step.steps, depth: depth + 1, suffix: "[…]")
            }
            scope.loops[step.loopName] = nil
        }

        /// The choice that holds, or nil when one before it cannot be known yet.
        mutating func branch(_ step: Runbook.Step, key: String, depth: Int, condition: String?) throws -> String? {
            for (index, choice) in step.choices.enumerated() {
                switch try scope.truth(choice.when) {
                case true?:
                    lines.append(RunbookPlan.Line(key: key, kind: "branch", effect: .read, description: "goes to \(choice.target.value)", current: "choice \(index + 1) holds: \(choice.when.text)", condition: condition, depth: depth))
                    scope.results[step.name] = .init(state: .succeeded, outputs: ["chose": .string(choice.target.value)], findings: [])
                    return choice.target.value
                case false?: continue
                case nil:
                    let reason = if case .unknown(let why) = try scope.evaluate(choice.when) { why } else { "unknown" }
                    lines.append(RunbookPlan.Line(key: key, kind: "branch", effect: .read, description: "undecided: \(choice.when.text) is \(reason)", condition: condition, depth: depth))
                    scope.unknown[step.name] = reason
                    return nil
                }
            }
            let target = step.defaultTarget?.value ?? ""
            lines.append(RunbookPlan.Line(key: key, kind: "branch", effect: .read, description: "goes to \(target)", current: "no choice holds: the default", condition: condition, depth: depth))
            scope.results[step.name] = .init(state: .succeeded, outputs: ["chose": .string(target)], findings: [])
            return target
        }

        mutating func action(_ step: Runbook.Step, kind: RunbookStepKind, key: String, depth: Int, condition: String?) async throws {
            let (arguments, unknownArguments) = try scope.arguments(of: step)
            let action = kind.action(arguments, skippable: step.skippable)
            let effect = action.effect
            let context = planner.context(for: step, scope: scope)
            var line = RunbookPlan.Line(key: key, kind: kind.rawValue, effect: effect, description: "", condition: condition, depth: depth)
            let waitsFor = firstChange.map { "known after step '\($0)' runs" }
            if effect == .read, let waitsFor {
                line.description = (await action.preview(in: context)).description
                line.current = waitsFor
                scope.unknown[step.name] = waitsFor
            } else if let unknownArguments {
                line.description = (await action.preview(in: context)).description
                line.current = "its arguments are \(unknownArguments)"
                scope.unknown[step.name] = unknownArguments
            } else {
                let preview = await action.preview(in: context)
                line.description = preview.description
                line.current = preview.current
                line.problem = preview.problem
                if effect == .read, condition == nil {
                    if let output = preview.output {
                        scope.results[step.name] = .init(state: .succeeded, outputs: output.outputs, findings: output.findings)
                        facts[key] = output.summary
                    } else {
                        scope.unknown[step.name] = "unknown: the read failed (\(preview.problem ?? "no result"))"
                    }
                } else if effect == .read {
                    scope.unknown[step.name] = condition
                } else {
                    facts[key] = preview.description
                    scope.unknown[step.name] = "known after step '\(key)' runs"
                }
            }
            if effect.changes || effect == .unknown { firstChange = firstChange ?? key }
            if kind == .note, condition == nil, arguments.string("verdict") != nil, !scope.unknown.keys.contains(step.name) {
                ended = "the verdict of '\(key)' ends the runbook"
            }
            lines.append(line)
            for rollback in step.rollback {
                let (rollbackArguments, _) = try scope.arguments(of: rollback)
                var preview: RunbookPreview?
                if let kind = rollback.kind {
                    preview = await kind.action(rollbackArguments, skippable: false).preview(in: planner.context(for: rollback, scope: scope))
                }
                lines.append(RunbookPlan.Line(
                    key: rollback.name + (key.dropFirst(step.name.count)), kind: rollback.kind?.rawValue ?? "group", effect: rollback.kind?.effect ?? .read,
                    description: preview?.description ?? "", current: nil, condition: "only if a later step fails: rollback of '\(key)'", depth: depth + 1,
                    isRollback: true))
            }
        }
    }

    func context(for step: Runbook.Step, scope: RunbookEvaluationScope) -> RunbookStepContext {
        var operations = OperationRunner(inventory: inventory)
        operations.enclosingRun = EnclosingRun(id: "plan", interruption: Interruption())
        let captured = scope
        return RunbookStepContext(
            inventory: inventory, environment: environment, operations: operations, progress: { _ in }, interruption: Interruption(),
            ask: { _, _, _ in RunbookAnswer(.no, by: "the plan") }, startedAt: Date(), timeout: step.timeout ?? .seconds(300),
            whisperctlVersion: whisperctlVersion,
            evaluate: { name, names in try RunbookEngine.evaluateArgument(name, of: step, names: names, in: captured) })
    }
}

/// A plan: its lines, their counts by effect, and the fingerprint a saved plan is checked by.
public struct RunbookPlan: Codable, Sendable {
    public var runbook: String
    public var path: String
    public var parameters: [String: String]
    public var lines: [Line]
    public var fingerprint: Fingerprint

    public struct Line: Codable, Sendable {
        public var key: String
        public var kind: String
        public var effect: RunbookEffect
        public var description: String
        /// The probed current value (and whether it would pass now), or what it waits for.
        public var current: String?
        public var problem: String?
        /// Why it may not run ("runs if ..."), when that is not known yet.
        public var condition: String?
        /// Why it will not run.
        public var skipped: String?
        public var depth: Int
        public var isRollback = false
    }

    public struct Fingerprint: Codable, Sendable, Equatable {
        public var runbook: String
        public var inventory: String
        public var parameters: String
        /// What the reads found and what each change would do, by step.
        public var facts: [String: String]
    }

    /// Lines that will or may run (not skipped, not rollbacks owed only on failure).
    public var active: [Line] { lines.filter { $0.skipped == nil && !$0.isRollback && $0.kind != "for_each" && $0.kind != "precondition" } }

    public var counts: [(RunbookEffect, Int)] {
        RunbookEffect.allCases.map { effect in (effect, active.filter { $0.effect == effect }.count) }.filter { $0.1 > 0 }
    }

    public var preconditionFailures: [Line] { lines.filter { $0.kind == "precondition" } }

    /// 0 read only, 2 changes, 3 steps that cannot be previewed (a shell, a failed probe).
    public var exitCode: Int32 {
        if !preconditionFailures.isEmpty { return 1 }
        if active.contains(where: { $0.effect == .unknown || $0.problem != nil }) { return 3 }
        if active.contains(where: { $0.effect.changes }) { return 2 }
        return 0
    }

    /// What moved between this (saved) plan and `now`; empty: still current.
    public func staleness(against now: RunbookPlan) -> [String] {
        var moved: [String] = []
        if fingerprint.runbook != now.fingerprint.runbook { moved.append("the runbook \(path) changed") }
        if fingerprint.inventory != now.fingerprint.inventory { moved.append("the inventory changed") }
        if fingerprint.parameters != now.fingerprint.parameters { moved.append("the parameters differ") }
        for key in Set(fingerprint.facts.keys).union(now.fingerprint.facts.keys).sorted() where fingerprint.facts[key] != now.fingerprint.facts[key] {
            moved.append("step \(key): planned with '\(fingerprint.facts[key] ?? "nothing")', now '\(now.fingerprint.facts[key] ?? "nothing")'")
        }
        return moved
    }
}

extension RunbookEffect: Codable {}

extension Inventory {
    /// A digest of every effective value (credentials masked first), so a saved plan notices
    /// an edited inventory.
    public var fingerprint: String {
        let lines = values.keys.sorted().map { key -> String in
            let value = values[key]!
            let text: String =
                switch value.content {
                case .scalar(let scalar): key.isSecret ? "(secret)" : Redactor.redactURL(scalar)
                case .servers(let servers): servers.map { "\($0.name)=\(Redactor.redactURL($0.url))" }.joined(separator: ",")
                case .list(let items): items.map(\.0).joined(separator: ",")
                }
            return "\(key.rawValue)=\(text)"
        }
        return Digest.sha256Hex(lines.joined(separator: "\n"))
    }
}
