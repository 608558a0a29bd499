import Foundation

/// The names expressions see at one point of a plan or a run: the parameters, the inventory,
/// the steps so far (their state, outputs and findings), the loop variables, and a kind's own
/// names (`value`, `stats.sessions`).
struct RunbookEvaluationScope: RunbookScope {
    var parameters: [String: RunbookValue]
    var inventory: Inventory
    /// Each step's latest result, by name.
    var results: [String: StepResult] = [:]
    /// Steps whose result the plan cannot know yet, and why ("known after step 'restart' runs").
    var unknown: [String: String] = [:]
    var loops: [String: RunbookValue] = [:]
    var extra: [String: RunbookValue] = [:]

    struct StepResult: Sendable {
        var state: RunbookRunRecord.Step.State
        var outputs: [String: RunbookValue]
        var findings: [String]
        var duration: Double?
    }

    func resolve(_ path: [String]) -> RunbookResolution {
        let dotted = path.joined(separator: ".")
        if let value = extra[dotted] { return .value(value) }
        switch path[0] {
        case "params":
            guard path.count == 2, let value = parameters[path[1]] else { return .undefined("no parameter \(dotted)") }
            return .value(value)
        case "inventory":
            switch path.count == 2 ? path[1] : "" {
            case "servers": return .value(.list(inventory.servers.map { .string($0.name) }))
            case "deployment": return .value(.string(inventory.deployment))
            case "backend": return .value(.string(inventory.haproxyBackend))
            case "frontend": return .value(inventory.haproxyFrontend.map(RunbookValue.string) ?? .null)
            case "certs": return .value(.list(inventory.certificatePaths.map(RunbookValue.string)))
            default: return .undefined("no \(dotted)")
            }
        case "steps":
            guard path.count >= 3 else { return .undefined("no \(dotted)") }
            if let reason = unknown[path[1]] { return .unknown(reason) }
            guard let result = results[path[1]] else {
                // Not run (a branch went elsewhere, a when was false): its outputs are null.
                switch path[2] {
                case "ok": return .value(.bool(false))
                case "skipped": return .value(.bool(true))
                case "status": return .value(.string("skipped"))
                default: return .value(.null)
                }
            }
            switch path[2] {
            case "ok": return .value(.bool(result.state == .succeeded))
            case "skipped": return .value(.bool(result.state == .skipped))
            case "status": return .value(.string(result.state.rawValue))
            case "duration": return .value(result.duration.map(RunbookValue.number) ?? .null)
            case "output" where path.count == 4: return .value(result.outputs[path[3]] ?? .null)
            default: return .undefined("no \(dotted)")
            }
        default:
            if path.count == 1, let value = loops[path[0]] { return .value(value) }
            return .undefined("unknown name \(dotted)")
        }
    }

    func call(_ path: [String], _ arguments: [RunbookValue]) -> RunbookResolution {
        guard path.count == 3, path[0] == "steps", path[2] == "found", arguments.count == 1, case .string(let id) = arguments[0] else {
            return .undefined("unknown function \(path.joined(separator: "."))()")
        }
        if let reason = unknown[path[1]] { return .unknown(reason) }
        return .value(.bool(results[path[1]]?.findings.contains(id) ?? false))
    }

    /// Rebuilt from a record, for a resume: every settled step's result.
    mutating func load(_ record: RunbookRunRecord) {
        for step in record.steps where step.state == .succeeded || step.state == .skipped || step.state == .failed {
            results[step.name] = StepResult(
                state: step.state, outputs: step.outputs, findings: step.findings,
                duration: step.startedAt.flatMap { start in step.endedAt.map { $0.timeIntervalSince(start) } })
        }
    }

    /// A step's arguments rendered here; an expression argument is kept as its source text
    /// (evaluated by the step each time, with its own names).
    func arguments(of step: Runbook.Step) throws -> (RunbookArguments, unknown: String?) {
        var values: [String: RunbookValue] = [:]
        var unknownBecause: String?
        let kind = step.kind
        for (name, argument) in step.arguments {
            if kind?.expressionArguments.contains(name) == true {
                values[name] = .string(argument.source)
                values["\(name)_source"] = .string(argument.source)
                continue
            }
            switch argument {
            case .text(let template):
                switch try render(template) {
                case .known(let value): values[name] = value
                case .unknown(let reason):
                    unknownBecause = unknownBecause ?? reason
                    values[name] = .string(template.source)
                }
            case .list(let templates):
                var items: [RunbookValue] = []
                for template in templates {
                    switch try render(template) {
                    case .known(let value): items.append(value)
                    case .unknown(let reason):
                        unknownBecause = unknownBecause ?? reason
                        items.append(.string(template.source))
                    }
                }
                values[name] = .list(items)
            }
        }
        return (RunbookArguments(values: values, step: step.name), unknownBecause)
    }

    func render(_ template: RunbookTemplate) throws -> RunbookExpression.Outcome {
        do { return try template.render(in: self) } catch { throw RunbookEvaluationFailed(location: template.location, message: error.message) }
    }

    func evaluate(_ expression: Located<RunbookExpression>) throws -> RunbookExpression.Outcome {
        do { return try expression.value.evaluate(in: self) } catch {
            throw RunbookEvaluationFailed(location: expression.location.offset(by: error.offset), message: "\(expression.text): \(error.message)")
        }
    }

    func truth(_ expression: Located<RunbookExpression>) throws -> Bool? {
        switch try evaluate(expression) {
        case .known(let value):
            do { return try RunbookExpression.truth(value, offset: 0) } catch {
                throw RunbookEvaluationFailed(location: expression.location, message: "\(expression.text): \(error.message)")
            }
        case .unknown: return nil
        }
    }
}

/// An expression that failed while it was evaluated (a type mismatch), where it is written.
struct RunbookEvaluationFailed: Error, CustomStringConvertible {
    var location: RunbookLocation
    var message: String
    var description: String { "\(location): \(message)" }
}
