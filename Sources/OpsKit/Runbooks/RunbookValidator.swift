import Foundation

/// What a decoded runbook means, checked before anything runs: every name an expression uses
/// is defined (parameters, earlier steps and their outputs, finding ids from the catalogue),
/// step names are unique, a `branch` has choices and a default that jump forward, a step has
/// the arguments its kind needs. Every problem at once, at its line and column.
public struct RunbookValidator {
    public init() {}

    /// Read-only Redis commands a `redis.read` step may send.
    public static let readOnlyRedisCommands: Set<String> = [
        "GET", "MGET", "EXISTS", "TTL", "PTTL", "TYPE", "STRLEN", "LLEN", "LRANGE", "SCARD", "SMEMBERS", "SISMEMBER", "ZCARD", "ZCOUNT",
        "ZRANGE", "ZSCORE", "HGET", "HGETALL", "HLEN", "HKEYS", "DBSIZE", "PING", "INFO", "CONFIG", "SCAN", "SLOWLOG", "MEMORY", "CLIENT",
        "XLEN", "PUBSUB", "LATENCY",
    ]
    /// Of those, the ones whose subcommand must be a read (`CONFIG GET`, not `CONFIG SET`).
    static let readOnlySubcommands: [String: Set<String>] = [
        "CONFIG": ["GET"], "SLOWLOG": ["GET", "LEN"], "MEMORY": ["USAGE", "STATS"], "CLIENT": ["LIST", "INFO", "GETNAME"],
        "PUBSUB": ["CHANNELS", "NUMSUB", "NUMPAT"], "LATENCY": ["LATEST", "HISTORY"],
    ]

    public func validate(_ runbook: Runbook) -> [RunbookProblem] {
        var problems: [RunbookProblem] = []
        let parameterNames = Set(runbook.parameters.map(\.name))
        for parameter in runbook.parameters {
            problems += check(parameter)
        }
        // Names must be unique across groups and rollbacks: expressions name steps alone.
        var seen: [String: RunbookLocation] = [:]
        for step in runbook.allSteps where !step.name.isEmpty {
            if let first = seen[step.name] {
                problems.append(RunbookProblem(step.location, "step name '\(step.name)' is used twice (first at line \(first.line))"))
            } else {
                seen[step.name] = step.location
            }
        }
        let context = Context(parameters: parameterNames, steps: [:], loops: [], kindNames: [])
        for precondition in runbook.preconditions {
            problems += check(precondition.condition, in: context, field: "preconditions")
        }
        var defined = context
        problems += check(runbook.steps, in: &defined)
        return problems.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
    }

    /// The names an expression may use at one place in the runbook.
    struct Context {
        var parameters: Set<String>
        /// Steps defined before this point, and their kinds (nil: a group).
        var steps: [String: RunbookStepKind?]
        /// Loop variables in scope.
        var loops: [String]
        /// Names a kind's own expression argument adds (`value`, `stats`).
        var kindNames: [String]
        /// Whether a step before this point has rollback steps (something a rollback can undo).
        var rollbacksBefore = false
    }

    private func check(_ parameter: Runbook.Parameter) -> [RunbookProblem] {
        var problems: [RunbookProblem] = []
        let here = parameter.location
        if parameter.name.isEmpty || parameter.name.contains(where: { !($0.isLetter || $0.isNumber || $0 == "_") }) {
            problems.append(RunbookProblem(here, "parameter '\(parameter.name)': letters, digits and _ only"))
        }
        switch parameter.kind {
        case .enum where parameter.values.isEmpty:
            problems.append(RunbookProblem(here, "parameters.\(parameter.name): an enum needs values"))
        case .secret:
            if parameter.defaultValue != nil { problems.append(RunbookProblem(here, "parameters.\(parameter.name): a secret has no default (name where it comes from with from:)")) }
            if let from = parameter.from, !(from.hasPrefix("env:") || from.hasPrefix("inventory:")) {
                problems.append(RunbookProblem(here, "parameters.\(parameter.name).from: 'env:NAME' or 'inventory:KEY', not '\(from)'"))
            }
        default:
            if parameter.from != nil { problems.append(RunbookProblem(here, "parameters.\(parameter.name).from: only a secret comes from elsewhere")) }
        }
        if let value = parameter.defaultValue, let problem = RunbookParameters.problem(value, for: parameter, servers: nil) {
            problems.append(RunbookProblem(here, "parameters.\(parameter.name).default: \(problem)"))
        }
        return problems
    }

    private func check(_ steps: [Runbook.Step], in context: inout Context) -> [RunbookProblem] {
        var problems: [RunbookProblem] = []
        for (index, step) in steps.enumerated() {
            problems += check(step, following: Array(steps[(index + 1)...]), in: context)
            context.steps[step.name] = step.kind
            if !step.rollback.isEmpty || step.steps.contains(where: { !$0.rollback.isEmpty }) { context.rollbacksBefore = true }
            // A group's inner steps are visible after it (steps.check_ws1 is not: names are unique).
            for inner in step.steps { context.steps[inner.name] = inner.kind }
        }
        return problems
    }

    private func check(_ step: Runbook.Step, following: [Runbook.Step], in context: Context) -> [RunbookProblem] {
        var problems: [RunbookProblem] = []
        let here = step.location
        if let when = step.when { problems += check(when, in: context, field: "\(step.name).when") }
        if let loop = step.forEach {
            problems += check(loop, in: context, field: "\(step.name).for_each")
            if step.kind != nil { problems.append(RunbookProblem(here, "step '\(step.name)': for_each makes a group: give it steps, not a kind")) }
            if step.steps.isEmpty { problems.append(RunbookProblem(here, "step '\(step.name)': for_each needs steps")) }
            var inner = context
            inner.loops.append(step.loopName)
            problems += check(step.steps, in: &inner)
        } else if !step.steps.isEmpty {
            problems.append(RunbookProblem(here, "step '\(step.name)': steps: only a for_each group has steps"))
        }
        if step.onFailure == .rollback && step.rollback.isEmpty && !context.rollbacksBefore {
            problems.append(RunbookProblem(here, "step '\(step.name)': on_failure: rollback, but neither it nor a step before it has rollback steps"))
        }

        if !step.rollback.isEmpty {
            var inner = context
            problems += check(step.rollback, in: &inner)
        }
        guard let kind = step.kind else { return problems }
        for name in kind.required where step.arguments[name] == nil {
            let why = kind == .shell && name == "preview" ? " (what the command does, shown by the plan, which never runs it)" : ""
            problems.append(RunbookProblem(here, "step '\(step.name)': \(kind.rawValue) needs with.\(name)\(why)"))
        }
        for (name, argument) in step.arguments {
            var scope = context
            if kind.expressionArguments.contains(name) { scope.kindNames = kind.expressionNames }
            for template in argument.templates {
                for expression in template.expressions { problems += check(expression, in: scope, field: "\(step.name).with.\(name)") }
            }
        }
        problems += checkArguments(step, kind: kind)
        if kind == .branch {
            if step.choices.isEmpty { problems.append(RunbookProblem(here, "branch '\(step.name)': needs choices")) }
            if step.defaultTarget == nil { problems.append(RunbookProblem(here, "branch '\(step.name)': needs a default (where to go when no choice holds)")) }
            let later = following.map(\.name)
            for target in step.choices.map(\.target) + [step.defaultTarget].compactMap({ $0 }) where !later.contains(target.value) {
                var message = "branch '\(step.name)': goto '\(target.value)' is not a later step of the same list"
                if let near = closestMatch(to: target.value, in: later) { message += " (did you mean '\(near)'?)" }
                problems.append(RunbookProblem(target.location, message))
            }
            for choice in step.choices { problems += check(choice.when, in: context, field: "\(step.name).choices") }
        } else if !step.choices.isEmpty || step.defaultTarget != nil {
            problems.append(RunbookProblem(here, "step '\(step.name)': choices and default belong to a branch"))
        }
        if step.skippable && kind != .confirm { problems.append(RunbookProblem(here, "step '\(step.name)': only a confirm is skippable")) }
        return problems
    }

    /// Literal arguments that can be checked now.
    private func checkArguments(_ step: Runbook.Step, kind: RunbookStepKind) -> [RunbookProblem] {
        var problems: [RunbookProblem] = []
        func literal(_ name: String) -> (String, RunbookLocation)? {
            guard case .text(let template)? = step.arguments[name], template.expressions.isEmpty else { return nil }
            return (template.source, template.location)
        }
        func oneOf(_ name: String, _ allowed: [String]) {
            if let (value, location) = literal(name), !allowed.contains(value) {
                problems.append(RunbookProblem(location, "\(step.name).with.\(name): '\(value)' is not one of \(allowed.joined(separator: ", "))"))
            }
        }
        func duration(_ name: String) {
            if let (value, location) = literal(name), Duration(parsing: value) == nil {
                problems.append(RunbookProblem(location, "\(step.name).with.\(name): '\(value)' is not a duration (500ms, 30s, 5m)"))
            }
        }
        func number(_ name: String) {
            if let (value, location) = literal(name), Double(value) == nil {
                problems.append(RunbookProblem(location, "\(step.name).with.\(name): '\(value)' is not a number"))
            }
        }
        switch kind {
        case .note: oneOf("verdict", ["ok", "warning", "critical", "unknown"])
        case .confirm: duration("wait")
        case .status: oneOf("fail_on", ["never", "warning", "critical"])
        case .diag:
            oneOf("fail_on", ["never", "warning", "critical"])
            duration("interval")
            if case .list(let items)? = step.arguments["components"] {
                for item in items where item.expressions.isEmpty && !DeploymentDiagnosis.components.contains(item.source) {
                    problems.append(RunbookProblem(item.location, "\(step.name).with.components: no component '\(item.source)'; diag has \(DeploymentDiagnosis.components.joined(separator: ", "))"))
                }
            }
        case .redisRead:
            if let (command, location) = literal("command"), let problem = Self.redisProblem(command) {
                problems.append(RunbookProblem(location, "\(step.name).with.command: \(problem)"))
            }
        case .waitHTTP:
            number("status")
            duration("every")
        case .waitMetric:
            oneOf("aggregate", ["sum", "max", "min"])
            oneOf("rate", ["true", "false"])
            oneOf("on_no_data", ["fail", "keep_waiting"])
            number("quantile")
            duration("hold")
            duration("every")
        case .haproxyWait: duration("every")
        case .migrate:
            oneOf("direction", ["up", "down"])
            number("to")
            if let (direction, _) = literal("direction"), direction == "down", step.arguments["to"] == nil {
                problems.append(RunbookProblem(step.location, "step '\(step.name)': a migration down needs with.to (the version to end at), so a resume never reverts further"))
            }
        case .certCheck: number("warn_days")
        default: break
        }
        return problems
    }

    /// Why a Redis command is not allowed in a `redis.read` step, or nil.
    public static func redisProblem(_ command: String) -> String? {
        let words = command.split(separator: " ").map { $0.uppercased() }
        guard let name = words.first else { return "empty command" }
        guard readOnlyRedisCommands.contains(name) else {
            return "\(name) is not a read-only command; redis.read sends only \(readOnlyRedisCommands.sorted().joined(separator: ", "))"
        }
        if let allowed = readOnlySubcommands[name], !(words.count > 1 && allowed.contains(words[1])) {
            return "\(name) \(words.count > 1 ? words[1] : "") is not a read; redis.read allows \(name) \(allowed.sorted().joined(separator: "|"))"
        }
        return nil
    }

    /// Every name in one expression is defined here.
    func check(_ expression: Located<RunbookExpression>, in context: Context, field: String) -> [RunbookProblem] {
        var problems: [RunbookProblem] = []
        for reference in expression.value.references {
            let at = expression.location.offset(by: reference.offset)
            if let problem = problem(reference.path, arguments: reference.arguments, in: context) {
                problems.append(RunbookProblem(at, "\(field): \(problem)"))
            }
        }
        return problems
    }

    static let inventoryNames = ["servers", "deployment", "backend", "frontend", "certs"]

    private func problem(_ path: [String], arguments: [RunbookExpression]?, in context: Context) -> String? {
        let dotted = path.joined(separator: ".")
        if let arguments {
            if path == ["len"] { return arguments.count == 1 ? nil : "len() takes one argument" }
            if path == ["contains"] { return arguments.count == 2 ? nil : "contains() takes two arguments" }
            guard path.count == 3, path[0] == "steps", path[2] == "found" else {
                return "unknown function \(dotted)(); the functions are len(x), contains(list, x) and steps.NAME.found(\"finding.id\")"
            }
            guard let kind = context.steps[path[1]] else { return stepProblem(path[1], context) }
            guard kind == .diag else { return "steps.\(path[1]) is a \(kind?.rawValue ?? "group"), not a diag: it has no findings" }
            guard arguments.count == 1, case .literal(.string(let id)) = arguments[0] else { return "found() takes one finding id in quotes" }
            guard FindingCatalogue.ids.contains(id) else {
                var message = "no finding '\(id)' in diag's catalogue"
                if let near = closestMatch(to: id, in: FindingCatalogue.sorted) { message += " (did you mean '\(near)'?)" }
                return message
            }
            return nil
        }
        switch path[0] {
        case "params":
            guard path.count == 2 else { return "write params.NAME" }
            if context.parameters.contains(path[1]) { return nil }
            var message = "no parameter '\(path[1])'"
            if let near = closestMatch(to: path[1], in: Array(context.parameters)) { message += " (did you mean '\(near)'?)" }
            return message + (context.parameters.isEmpty ? "; the runbook declares none" : "")
        case "inventory":
            guard path.count == 2, Self.inventoryNames.contains(path[1]) else {
                return "'\(dotted)': the inventory gives \(Self.inventoryNames.map { "inventory.\($0)" }.joined(separator: ", "))"
            }
            return nil
        case "steps":
            guard path.count >= 3 else { return "write steps.NAME.ok, .status, .skipped or .output.FIELD" }
            guard let kind = context.steps[path[1]] else { return stepProblem(path[1], context) }
            switch path[2] {
            case "ok", "status", "skipped", "duration": return path.count == 3 ? nil : "steps.\(path[1]).\(path[2]) has no fields"
            case "output":
                guard path.count == 4 else { return "write steps.\(path[1]).output.FIELD" }
                let outputs = kind?.outputs ?? []
                if outputs.contains(path[3]) { return nil }
                return "a \(kind?.rawValue ?? "group") step has no output '\(path[3])'" + (outputs.isEmpty ? "" : "; it has \(outputs.joined(separator: ", "))")
            default:
                return "steps.\(path[1]) has ok, status, skipped, duration and output.FIELD, not '\(path[2])'"
            }
        default:
            if context.loops.contains(path[0]) { return path.count == 1 ? nil : "\(path[0]) is a name: it has no fields" }
            if context.kindNames.contains(path[0]) {
                if path[0] == "stats" {
                    guard path.count == 2, RunbookStepKind.haproxyStatsFields.contains(path[1]) else {
                        return "stats has \(RunbookStepKind.haproxyStatsFields.joined(separator: ", "))"
                    }
                }
                return nil
            }
            let roots = ["params", "inventory", "steps"] + context.loops + context.kindNames
            var message = "unknown name '\(dotted)'"
            if let near = closestMatch(to: path[0], in: roots) { message += " (did you mean '\(near)'?)" }
            return message + "; names start with \(roots.joined(separator: ", "))"
        }
    }

    private func stepProblem(_ name: String, _ context: Context) -> String {
        var message = "no step '\(name)' before this one"
        if let near = closestMatch(to: name, in: Array(context.steps.keys)) { message += " (did you mean '\(near)'?)" }
        return message
    }
}
