import Foundation

/// A declarative procedure: typed parameters, preconditions and steps, each step a typed
/// operation (`RunbookStepKind`). Read from YAML by `RunbookDecoder`, checked by
/// `RunbookValidator`, planned by `RunbookPlanner`, run by `RunbookExecution`.
public struct Runbook: Sendable {
    public var name: String
    public var description: String
    public var parameters: [Parameter]
    public var preconditions: [Precondition]
    public var steps: [Step]
    /// Where it was read from, and the text (kept in every run record).
    public var path: String
    public var text: String

    public struct Parameter: Sendable {
        public enum Kind: String, Sendable, CaseIterable {
            case string, int, duration, bool, server, `enum`, secret
        }
        public var name: String
        public var kind: Kind
        public var description: String
        /// The value when none is given (nil: required).
        public var defaultValue: String?
        /// An enum's allowed values.
        public var values: [String]
        /// A secret's reference: `env:NAME` or `inventory:redis.password`. Records keep this,
        /// never the value.
        public var from: String?
        public var location: RunbookLocation
    }

    public struct Precondition: Sendable {
        public var condition: Located<RunbookExpression>
        public var message: String
    }

    public enum OnFailure: String, Sendable, CaseIterable {
        case stop, `continue`, rollback
    }

    public struct Step: Sendable {
        public var name: String
        /// nil for a group (`for_each` with `steps`).
        public var kind: RunbookStepKind?
        public var arguments: [String: RunbookArgument]
        public var when: Located<RunbookExpression>?
        public var timeout: Duration?
        public var retries: Int
        public var backoff: Duration
        public var onFailure: OnFailure
        public var rollback: [Step]
        public var forEach: Located<RunbookExpression>?
        /// The loop variable's name (`item` unless `as:` says).
        public var loopName: String
        public var steps: [Step]
        /// A `branch`'s choices, in order, and where it goes when none holds.
        public var choices: [Choice]
        public var defaultTarget: Located<String>?
        /// A `confirm` that `--yes` may answer.
        public var skippable: Bool
        public var location: RunbookLocation

        public struct Choice: Sendable {
            public var when: Located<RunbookExpression>
            public var target: Located<String>
        }
    }

    /// Every step, groups and rollbacks included, depth first.
    public var allSteps: [Step] {
        func walk(_ steps: [Step]) -> [Step] { steps.flatMap { [$0] + walk($0.steps) + walk($0.rollback) } }
        return walk(steps)
    }

    /// Changes a resume must not run across: the steps' names, kinds and arguments, in order
    /// (a description or a comment may change).
    public var structure: String {
        func describe(_ steps: [Step], depth: Int) -> [String] {
            steps.flatMap { step -> [String] in
                let arguments = step.arguments.keys.sorted().map { "\($0)=\(step.arguments[$0]!.source)" }.joined(separator: " ")
                var line = String(repeating: "  ", count: depth) + "\(step.name): \(step.kind?.rawValue ?? "group")"
                if !arguments.isEmpty { line += " " + arguments }
                if let when = step.when { line += " when \(when.text)" }
                if let loop = step.forEach { line += " for_each \(loop.text)" }
                return [line] + describe(step.steps, depth: depth + 1) + describe(step.rollback, depth: depth + 1).map { $0 + " (rollback)" }
            }
        }
        return describe(steps, depth: 0).joined(separator: "\n")
    }
}

/// A place in a runbook file, for errors that point at it.
public struct RunbookLocation: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var line: Int
    public var column: Int

    public init(path: String, line: Int, column: Int) {
        self.path = path
        self.line = line
        self.column = column
    }

    public var description: String { "\(path):\(line):\(column)" }

    func offset(by columns: Int) -> RunbookLocation { RunbookLocation(path: path, line: line, column: column + columns) }
}

/// A parsed value with its text and where it was written.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var text: String
    public var location: RunbookLocation
}

/// A step argument: text with `${expression}` parts, or a list of them.
public enum RunbookArgument: Sendable {
    case text(RunbookTemplate)
    case list([RunbookTemplate])

    var source: String {
        switch self {
        case .text(let template): template.source
        case .list(let items): "[" + items.map(\.source).joined(separator: ", ") + "]"
        }
    }

    var templates: [RunbookTemplate] {
        switch self {
        case .text(let template): [template]
        case .list(let items): items
        }
    }
}

/// `drain ${item} of ${params.backend}`: literal text and expressions.
public struct RunbookTemplate: Sendable {
    public enum Part: Sendable {
        case literal(String)
        case expression(Located<RunbookExpression>)
    }
    public var parts: [Part]
    public var source: String
    public var location: RunbookLocation

    /// Parses `${...}`; a syntax error points at its column.
    static func parse(_ text: String, at location: RunbookLocation) -> (RunbookTemplate, [RunbookProblem]) {
        var parts: [Part] = []
        var problems: [RunbookProblem] = []
        var rest = Substring(text)
        var consumed = 0
        while let open = rest.range(of: "${") {
            let before = rest[..<open.lowerBound]
            if !before.isEmpty { parts.append(.literal(String(before))) }
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.firstIndex(of: "}") else {
                problems.append(RunbookProblem(location.offset(by: consumed + before.count), "'${' without a closing '}'"))
                rest = ""
                break
            }
            let source = String(afterOpen[..<close])
            let start = consumed + before.count + 2
            do {
                parts.append(.expression(Located(value: try RunbookExpression.parse(source), text: source, location: location.offset(by: start))))
            } catch {
                problems.append(RunbookProblem(location.offset(by: start + error.offset), error.message))
            }
            consumed = start + source.count + 1
            rest = afterOpen[afterOpen.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        return (RunbookTemplate(parts: parts, source: text, location: location), problems)
    }

    var expressions: [Located<RunbookExpression>] {
        parts.compactMap { part in
            if case .expression(let expression) = part { return expression }
            return nil
        }
    }

    /// The text with every expression's value, or unknown and why. A template that is one
    /// expression keeps its value's type (a list stays a list).
    public func render(in scope: some RunbookScope) throws(RunbookExpression.EvaluationError) -> RunbookExpression.Outcome {
        if parts.count == 1, case .expression(let only) = parts[0] { return try only.value.evaluate(in: scope) }
        var text = ""
        for part in parts {
            switch part {
            case .literal(let literal): text += literal
            case .expression(let expression):
                switch try expression.value.evaluate(in: scope) {
                case .known(let value): text += value.text
                case .unknown(let reason): return .unknown(reason)
                }
            }
        }
        return .known(.string(text))
    }
}

/// One thing wrong with a runbook, where it is.
public struct RunbookProblem: Sendable, Equatable, CustomStringConvertible, Error {
    public var location: RunbookLocation
    public var message: String

    public init(_ location: RunbookLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// Every problem of one or more runbook files.
public struct RunbookInvalid: Error, CustomStringConvertible {
    public var problems: [RunbookProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
