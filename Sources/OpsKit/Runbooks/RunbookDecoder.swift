import Foundation
import Yams

/// Reads a runbook's YAML into a `Runbook`, every shape problem at its line and column, all of
/// them at once. Meaning (names, references, finding ids) is `RunbookValidator`'s.
public struct RunbookDecoder {
    public let path: String
    private var problems: [RunbookProblem] = []

    public init(path: String) { self.path = path }

    /// - Returns: the runbook and the problems found; a runbook with problems must not run.
    public static func decode(_ text: String, path: String) -> (Runbook?, [RunbookProblem]) {
        var decoder = RunbookDecoder(path: path)
        let runbook = decoder.read(text)
        return (runbook, decoder.problems)
    }

    private mutating func read(_ text: String) -> Runbook? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            problems.append(syntaxProblem(error))
            return nil
        } catch {
            problems.append(RunbookProblem(RunbookLocation(path: path, line: 1, column: 1), "invalid YAML: \(error)"))
            return nil
        }
        guard let root, case .mapping(let mapping) = root else {
            problems.append(RunbookProblem(RunbookLocation(path: path, line: 1, column: 1), "a runbook is a mapping with name, description and steps"))
            return nil
        }
        var runbook = Runbook(name: "", description: "", parameters: [], preconditions: [], steps: [], path: path, text: text)
        var sawName = false
        var sawSteps = false
        for (key, value) in mapping {
            switch key.string ?? "" {
            case "name":
                sawName = true
                runbook.name = scalar(value, "name") ?? ""
                if !runbook.name.isEmpty, runbook.name.contains(where: { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
                    problems.append(RunbookProblem(location(value), "name: letters, digits, - and _ only (it is typed on the command line)"))
                }
            case "description": runbook.description = scalar(value, "description") ?? ""
            case "parameters": runbook.parameters = parameters(value)
            case "preconditions": runbook.preconditions = preconditions(value)
            case "steps":
                sawSteps = true
                runbook.steps = steps(value, field: "steps")
            default:
                problems.append(unknownKey(key, among: ["name", "description", "parameters", "preconditions", "steps"], in: "a runbook"))
            }
        }
        let top = RunbookLocation(path: path, line: 1, column: 1)
        if !sawName { problems.append(RunbookProblem(top, "name: missing")) }
        if !sawSteps { problems.append(RunbookProblem(top, "steps: missing")) }
        return runbook
    }

    // MARK: - Sections

    private mutating func parameters(_ node: Node) -> [Runbook.Parameter] {
        guard case .mapping(let mapping) = node else {
            problems.append(RunbookProblem(location(node), "parameters: a mapping of name to {type, description, default}"))
            return []
        }
        var result: [Runbook.Parameter] = []
        for (key, value) in mapping {
            let name = key.string ?? ""
            var parameter = Runbook.Parameter(name: name, kind: .string, description: "", defaultValue: nil, values: [], from: nil, location: location(key))
            guard case .mapping(let fields) = value else {
                problems.append(RunbookProblem(location(value), "parameters.\(name): a mapping with type (and description, default)"))
                continue
            }
            var sawType = false
            for (field, content) in fields {
                switch field.string ?? "" {
                case "type":
                    sawType = true
                    let text = scalar(content, "parameters.\(name).type") ?? ""
                    if let kind = Runbook.Parameter.Kind(rawValue: text) {
                        parameter.kind = kind
                    } else {
                        problems.append(
                            RunbookProblem(location(content), "parameters.\(name).type: '\(text)' is not one of \(Runbook.Parameter.Kind.allCases.map(\.rawValue).joined(separator: ", "))"))
                    }
                case "description": parameter.description = scalar(content, "parameters.\(name).description") ?? ""
                case "default": parameter.defaultValue = scalar(content, "parameters.\(name).default")
                case "values": parameter.values = stringList(content, "parameters.\(name).values")
                case "from": parameter.from = scalar(content, "parameters.\(name).from")
                default:
                    problems.append(unknownKey(field, among: ["type", "description", "default", "values", "from"], in: "parameters.\(name)"))
                }
            }
            if !sawType { problems.append(RunbookProblem(location(key), "parameters.\(name).type: missing")) }
            result.append(parameter)
        }
        return result
    }

    private mutating func preconditions(_ node: Node) -> [Runbook.Precondition] {
        guard case .sequence(let items) = node else {
            problems.append(RunbookProblem(location(node), "preconditions: a list of {that: EXPRESSION, message: TEXT}"))
            return []
        }
        var result: [Runbook.Precondition] = []
        for (index, item) in items.enumerated() {
            guard case .mapping(let fields) = item else {
                problems.append(RunbookProblem(location(item), "preconditions[\(index)]: expected {that: EXPRESSION, message: TEXT}"))
                continue
            }
            var condition: Located<RunbookExpression>?
            var message = ""
            for (field, content) in fields {
                switch field.string ?? "" {
                case "that": condition = expression(content, "preconditions[\(index)].that")
                case "message": message = scalar(content, "preconditions[\(index)].message") ?? ""
                default: problems.append(unknownKey(field, among: ["that", "message"], in: "preconditions[\(index)]"))
                }
            }
            if let condition {
                result.append(Runbook.Precondition(condition: condition, message: message))
            } else if !fields.contains(where: { $0.key.string == "that" }) {
                problems.append(RunbookProblem(location(item), "preconditions[\(index)].that: missing"))
            }
        }
        return result
    }

    static let stepKeys = [
        "name", "kind", "with", "when", "timeout", "retries", "backoff", "on_failure", "rollback", "for_each", "as", "steps", "choices", "default",
        "skippable",
    ]

    private mutating func steps(_ node: Node, field: String) -> [Runbook.Step] {
        guard case .sequence(let items) = node else {
            problems.append(RunbookProblem(location(node), "\(field): a list of steps"))
            return []
        }
        return items.enumerated().compactMap { index, item in step(item, field: "\(field)[\(index)]") }
    }

    private mutating func step(_ node: Node, field: String) -> Runbook.Step? {
        guard case .mapping(let fields) = node else {
            problems.append(RunbookProblem(location(node), "\(field): a step is a mapping with name and kind"))
            return nil
        }
        var step = Runbook.Step(
            name: "", kind: nil, arguments: [:], when: nil, timeout: nil, retries: 0, backoff: .seconds(1), onFailure: .stop, rollback: [],
            forEach: nil, loopName: "item", steps: [], choices: [], defaultTarget: nil, skippable: false, location: location(node))
        var kindNode: Node?
        var withNode: Node?
        for (key, value) in fields {
            let name = key.string ?? ""
            switch name {
            case "name":
                step.name = scalar(value, "\(field).name") ?? ""
                if step.name.isEmpty || step.name.contains(where: { !($0.isLetter || $0.isNumber || $0 == "_") }) {
                    problems.append(RunbookProblem(location(value), "\(field).name: '\(step.name)': letters, digits and _ only (expressions name it as steps.\(step.name))"))
                }
            case "kind":
                kindNode = value
                let text = scalar(value, "\(field).kind") ?? ""
                if let kind = RunbookStepKind(rawValue: text) {
                    step.kind = kind
                } else {
                    var message = "\(field).kind: unknown step kind '\(text)'"
                    if let near = closestMatch(to: text, in: RunbookStepKind.allCases.map(\.rawValue)) { message += " (did you mean '\(near)'?)" }
                    problems.append(RunbookProblem(location(value), message + "; the kinds: \(RunbookStepKind.allCases.map(\.rawValue).joined(separator: ", "))"))
                }
            case "with": withNode = value
            case "when": step.when = expression(value, "\(field).when")
            case "timeout": step.timeout = duration(value, "\(field).timeout")
            case "backoff": step.backoff = duration(value, "\(field).backoff") ?? step.backoff
            case "retries":
                if let text = scalar(value, "\(field).retries"), let count = Int(text), (0...20).contains(count) {
                    step.retries = count
                } else {
                    problems.append(RunbookProblem(location(value), "\(field).retries: a whole number from 0 to 20"))
                }
            case "on_failure":
                let text = scalar(value, "\(field).on_failure") ?? ""
                if let policy = Runbook.OnFailure(rawValue: text) {
                    step.onFailure = policy
                } else {
                    problems.append(RunbookProblem(location(value), "\(field).on_failure: '\(text)' is not stop, continue or rollback"))
                }
            case "rollback": step.rollback = steps(value, field: "\(field).rollback")
            case "for_each": step.forEach = expression(value, "\(field).for_each")
            case "as": step.loopName = scalar(value, "\(field).as") ?? "item"
            case "steps": step.steps = steps(value, field: "\(field).steps")
            case "choices": step.choices = choices(value, field: "\(field).choices")
            case "default": step.defaultTarget = scalar(value, "\(field).default").map { Located(value: $0, text: $0, location: location(value)) }
            case "skippable":
                let text = scalar(value, "\(field).skippable") ?? ""
                guard let flag = ["true": true, "false": false][text] else {
                    problems.append(RunbookProblem(location(value), "\(field).skippable: true or false"))
                    continue
                }
                step.skippable = flag
            default:
                problems.append(unknownKey(key, among: Self.stepKeys, in: field))
            }
        }
        if step.name.isEmpty, !fields.contains(where: { $0.key.string == "name" }) { problems.append(RunbookProblem(location(node), "\(field).name: missing")) }
        if kindNode == nil && step.forEach == nil {
            problems.append(RunbookProblem(location(node), "\(field).kind: missing (or for_each with steps, for a group)"))
        }
        if let withNode { step.arguments = arguments(withNode, kind: step.kind, field: "\(field).with") }
        return step
    }

    private mutating func choices(_ node: Node, field: String) -> [Runbook.Step.Choice] {
        guard case .sequence(let items) = node else {
            problems.append(RunbookProblem(location(node), "\(field): a list of {when: EXPRESSION, goto: STEP}"))
            return []
        }
        var result: [Runbook.Step.Choice] = []
        for (index, item) in items.enumerated() {
            guard case .mapping(let fields) = item else {
                problems.append(RunbookProblem(location(item), "\(field)[\(index)]: expected {when: EXPRESSION, goto: STEP}"))
                continue
            }
            var when: Located<RunbookExpression>?
            var target: Located<String>?
            for (key, value) in fields {
                switch key.string ?? "" {
                case "when": when = expression(value, "\(field)[\(index)].when")
                case "goto": target = scalar(value, "\(field)[\(index)].goto").map { Located(value: $0, text: $0, location: location(value)) }
                default: problems.append(unknownKey(key, among: ["when", "goto"], in: "\(field)[\(index)]"))
                }
            }
            if let when, let target {
                result.append(Runbook.Step.Choice(when: when, target: target))
            } else if when == nil || target == nil {
                let missing = [fields.contains { $0.key.string == "when" } ? nil : "when", fields.contains { $0.key.string == "goto" } ? nil : "goto"].compactMap { $0 }
                if !missing.isEmpty { problems.append(RunbookProblem(location(item), "\(field)[\(index)]: missing \(missing.joined(separator: " and "))")) }
            }
        }
        return result
    }

    private mutating func arguments(_ node: Node, kind: RunbookStepKind?, field: String) -> [String: RunbookArgument] {
        guard case .mapping(let mapping) = node else {
            problems.append(RunbookProblem(location(node), "\(field): a mapping of the step's arguments"))
            return [:]
        }
        var result: [String: RunbookArgument] = [:]
        for (key, value) in mapping {
            let name = key.string ?? ""
            if let kind, !(kind.required + kind.optional).contains(name) {
                let known = kind.required + kind.optional
                var message = "\(field).\(name): \(kind.rawValue) takes no argument '\(name)'"
                if let near = closestMatch(to: name, in: known) { message += " (did you mean '\(near)'?)" }
                problems.append(RunbookProblem(location(key), message + (known.isEmpty ? "; it takes none" : "; it takes \(known.joined(separator: ", "))")))
                continue
            }
            let isExpression = kind?.expressionArguments.contains(name) ?? false
            switch value {
            case .scalar(let scalar):
                if isExpression {
                    if let parsed = expression(value, "\(field).\(name)") {
                        let template = RunbookTemplate(parts: [.expression(parsed)], source: scalar.string, location: location(value))
                        result[name] = .text(template)
                    }
                } else {
                    let (template, found) = RunbookTemplate.parse(scalar.string, at: textLocation(value))
                    problems += found
                    result[name] = .text(template)
                }
            case .sequence(let items):
                var templates: [RunbookTemplate] = []
                for (index, item) in items.enumerated() {
                    guard case .scalar(let scalar) = item else {
                        problems.append(RunbookProblem(location(item), "\(field).\(name)[\(index)]: expected a value"))
                        continue
                    }
                    let (template, found) = RunbookTemplate.parse(scalar.string, at: textLocation(item))
                    problems += found
                    templates.append(template)
                }
                result[name] = .list(templates)
            default:
                problems.append(RunbookProblem(location(value), "\(field).\(name): expected a value or a list of values"))
            }
        }
        return result
    }

    // MARK: - Values

    private func location(_ node: Node) -> RunbookLocation {
        RunbookLocation(path: path, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    /// Where a scalar's text starts: past the opening quote of a quoted one.
    private func textLocation(_ node: Node) -> RunbookLocation {
        guard case .scalar(let scalar) = node else { return location(node) }
        let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
        return location(node).offset(by: quoted ? 1 : 0)
    }

    private mutating func scalar(_ node: Node, _ field: String) -> String? {
        guard case .scalar(let scalar) = node else {
            problems.append(RunbookProblem(location(node), "\(field): expected a single value"))
            return nil
        }
        return scalar.string
    }

    private mutating func stringList(_ node: Node, _ field: String) -> [String] {
        guard case .sequence(let items) = node else {
            problems.append(RunbookProblem(location(node), "\(field): expected a list"))
            return []
        }
        return items.enumerated().compactMap { index, item in scalar(item, "\(field)[\(index)]") }
    }

    private mutating func duration(_ node: Node, _ field: String) -> Duration? {
        guard let text = scalar(node, field) else { return nil }
        guard let duration = Duration(parsing: text), duration > .zero else {
            problems.append(RunbookProblem(location(node), "\(field): '\(text)' is not a duration (500ms, 30s, 5m)"))
            return nil
        }
        return duration
    }

    private mutating func expression(_ node: Node, _ field: String) -> Located<RunbookExpression>? {
        guard let text = scalar(node, field) else { return nil }
        do {
            return Located(value: try RunbookExpression.parse(text), text: text, location: textLocation(node))
        } catch {
            problems.append(RunbookProblem(textLocation(node).offset(by: error.offset), "\(field): \(error.message)"))
            return nil
        }
    }

    private func unknownKey(_ key: Node, among known: [String], in scope: String) -> RunbookProblem {
        let name = key.string ?? "?"
        var message = "\(scope): unknown field '\(name)'"
        if let near = closestMatch(to: name, in: known) { message += " (did you mean '\(near)'?)" }
        return RunbookProblem(location(key), message)
    }

    private func syntaxProblem(_ error: YamlError) -> RunbookProblem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return RunbookProblem(RunbookLocation(path: path, line: mark.line, column: mark.column), "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return RunbookProblem(
                RunbookLocation(path: path, line: context.mark.line, column: context.mark.column),
                "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", "))")
        default:
            return RunbookProblem(RunbookLocation(path: path, line: 1, column: 1), "invalid YAML: \(error)")
        }
    }
}
