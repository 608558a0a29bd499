import Foundation

/// The one expression syntax of runbooks (`when:`, `branch` choices, `${...}` in arguments):
///
///     steps.triage.found("redis.maxmemory-policy") && params.server != "ws1"
///     len(inventory.servers) >= 2 || !steps.health.ok
///
/// Literals: numbers (a unit makes a duration in seconds: `500ms`, `30s`, `2m`, `1h`), strings in
/// single or double quotes, `true`, `false`, `null`. Names are dotted paths under `params`,
/// `inventory`, `steps`, `item` (inside `for_each`). Operators, loosest first: `||`, `&&`, `!`,
/// comparisons (`== != < <= > >=`). Functions: `len(x)`, `contains(list, x)`, and a step's
/// `found("finding.id")`. A name the runbook does not define is a validation error, never false.
public indirect enum RunbookExpression: Sendable, Equatable {
    case literal(RunbookValue)
    /// A dotted name, with the offset of its first character in the source text.
    case name([String], offset: Int)
    case call([String], arguments: [RunbookExpression], offset: Int)
    case not(RunbookExpression)
    case binary(Operator, RunbookExpression, RunbookExpression)

    public enum Operator: String, Sendable {
        case or = "||", and = "&&", equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        /// 0-based offset in the expression's text.
        public var offset: Int
        public var message: String
        public var description: String { message }
    }

    public static func parse(_ text: String) throws(SyntaxError) -> RunbookExpression {
        var parser = ExpressionParser(tokens: try ExpressionLexer.tokens(of: text), length: text.count)
        let expression = try parser.parseOr()
        if let extra = parser.peek { throw SyntaxError(offset: extra.offset, message: "unexpected \(extra.kind.text) after the expression") }
        return expression
    }

    /// Every name and call in the expression, for validation.
    public var references: [(path: [String], arguments: [RunbookExpression]?, offset: Int)] {
        switch self {
        case .literal: []
        case .name(let path, let offset): [(path, nil, offset)]
        case .call(let path, let arguments, let offset): [(path, arguments, offset)] + arguments.flatMap(\.references)
        case .not(let inner): inner.references
        case .binary(_, let left, let right): left.references + right.references
        }
    }

    /// What an expression comes to: a value, or unknown and why (the step it waits for).
    public enum Outcome: Sendable, Equatable {
        case known(RunbookValue)
        case unknown(String)
    }

    public func evaluate(in scope: some RunbookScope) throws(EvaluationError) -> Outcome {
        switch self {
        case .literal(let value):
            return .known(value)
        case .name(let path, let offset):
            return try scope.resolve(path).outcome(offset: offset)
        case .call(let path, let arguments, let offset):
            var values: [RunbookValue] = []
            for argument in arguments {
                switch try argument.evaluate(in: scope) {
                case .known(let value): values.append(value)
                case .unknown(let reason): return .unknown(reason)
                }
            }
            if path == ["len"] || path == ["contains"] { return try Self.builtin(path[0], values, offset: offset) }
            return try scope.call(path, values).outcome(offset: offset)
        case .not(let inner):
            switch try inner.evaluate(in: scope) {
            case .known(let value): return .known(.bool(!(try Self.truth(value, offset: 0))))
            case .unknown(let reason): return .unknown(reason)
            }
        case .binary(let op, let left, let right):
            let lhs = try left.evaluate(in: scope)
            // `false && x` and `true || x` are known whatever x is.
            if op == .and || op == .or {
                if case .known(let value) = lhs {
                    let truth = try Self.truth(value, offset: 0)
                    if op == .and && !truth { return .known(.bool(false)) }
                    if op == .or && truth { return .known(.bool(true)) }
                    switch try right.evaluate(in: scope) {
                    case .known(let other): return .known(.bool(try Self.truth(other, offset: 0)))
                    case .unknown(let reason): return .unknown(reason)
                    }
                }
                if case .known(let other) = try right.evaluate(in: scope) {
                    let truth = try Self.truth(other, offset: 0)
                    if op == .and && !truth { return .known(.bool(false)) }
                    if op == .or && truth { return .known(.bool(true)) }
                }
                return lhs
            }
            let rhs = try right.evaluate(in: scope)
            guard case .known(let a) = lhs else { return lhs }
            guard case .known(let b) = rhs else { return rhs }
            return .known(.bool(try Self.compare(op, a, b)))
        }
    }

    public struct EvaluationError: Error, Equatable, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { message }
    }

    static func truth(_ value: RunbookValue, offset: Int) throws(EvaluationError) -> Bool {
        switch value {
        case .bool(let flag): return flag
        case .null: return false
        default: throw EvaluationError(offset: offset, message: "expected true or false, got a \(value.typeName) (\(value.text))")
        }
    }

    static func compare(_ op: Operator, _ a: RunbookValue, _ b: RunbookValue) throws(EvaluationError) -> Bool {
        switch op {
        case .equal: return a == b
        case .notEqual: return a != b
        default: break
        }
        let order: Int
        switch (a, b) {
        case (.number(let x), .number(let y)): order = x < y ? -1 : (x > y ? 1 : 0)
        case (.string(let x), .string(let y)): order = x < y ? -1 : (x > y ? 1 : 0)
        default: throw EvaluationError(offset: 0, message: "cannot compare a \(a.typeName) (\(a.text)) with a \(b.typeName) (\(b.text)) using \(op.rawValue)")
        }
        switch op {
        case .less: return order < 0
        case .lessOrEqual: return order <= 0
        case .greater: return order > 0
        default: return order >= 0
        }
    }

    static func builtin(_ name: String, _ values: [RunbookValue], offset: Int) throws(EvaluationError) -> Outcome {
        switch (name, values.count) {
        case ("len", 1):
            switch values[0] {
            case .list(let items): return .known(.number(Double(items.count)))
            case .string(let text): return .known(.number(Double(text.count)))
            default: throw EvaluationError(offset: offset, message: "len() takes a list or a string, not a \(values[0].typeName)")
            }
        case ("contains", 2):
            switch values[0] {
            case .list(let items): return .known(.bool(items.contains(values[1])))
            case .string(let text): return .known(.bool(text.contains(values[1].text)))
            default: throw EvaluationError(offset: offset, message: "contains() takes a list or a string first, not a \(values[0].typeName)")
            }
        default:
            throw EvaluationError(offset: offset, message: "\(name)() takes \(name == "len" ? 1 : 2) argument\(name == "len" ? "" : "s"), not \(values.count)")
        }
    }
}

/// Where an expression's names come from while planning or running.
public protocol RunbookScope {
    func resolve(_ path: [String]) -> RunbookResolution
    func call(_ path: [String], _ arguments: [RunbookValue]) -> RunbookResolution
}

public enum RunbookResolution: Sendable, Equatable {
    case value(RunbookValue)
    /// Not known yet, and why: "known after step 'restart'".
    case unknown(String)
    /// Not a name here (validation should have caught it).
    case undefined(String)

    func outcome(offset: Int) throws(RunbookExpression.EvaluationError) -> RunbookExpression.Outcome {
        switch self {
        case .value(let value): return .known(value)
        case .unknown(let reason): return .unknown(reason)
        case .undefined(let message): throw RunbookExpression.EvaluationError(offset: offset, message: message)
        }
    }
}

// MARK: - Lexing and parsing

struct ExpressionToken: Equatable {
    enum Kind: Equatable {
        case number(Double), string(String), identifier(String), symbol(String)

        var text: String {
            switch self {
            case .number(let value): "number \(RunbookValue.number(value).text)"
            case .string(let value): "string '\(value)'"
            case .identifier(let name): "'\(name)'"
            case .symbol(let symbol): "'\(symbol)'"
            }
        }
    }
    var kind: Kind
    var offset: Int
}

enum ExpressionLexer {
    static let symbols = ["||", "&&", "==", "!=", "<=", ">=", "<", ">", "!", "(", ")", ",", "."]
    static let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]

    static func tokens(of text: String) throws(RunbookExpression.SyntaxError) -> [ExpressionToken] {
        let characters = Array(text)
        var tokens: [ExpressionToken] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character.isWhitespace {
                index += 1
                continue
            }
            let start = index
            if character.isASCII && character.isNumber {
                while index < characters.count, characters[index].isASCII, characters[index].isNumber || characters[index] == "." { index += 1 }
                guard let number = Double(String(characters[start..<index])) else {
                    throw RunbookExpression.SyntaxError(offset: start, message: "'\(String(characters[start..<index]))' is not a number")
                }
                var unitEnd = index
                while unitEnd < characters.count, characters[unitEnd].isASCII, characters[unitEnd].isLetter { unitEnd += 1 }
                var value = number
                if unitEnd > index {
                    let unit = String(characters[index..<unitEnd])
                    guard let factor = units.first(where: { $0.0 == unit })?.1 else {
                        throw RunbookExpression.SyntaxError(offset: index, message: "unknown unit '\(unit)' (durations use ms, s, m, h)")
                    }
                    value *= factor
                    index = unitEnd
                }
                tokens.append(ExpressionToken(kind: .number(value), offset: start))
                continue
            }
            if character == "\"" || character == "'" {
                index += 1
                var value = ""
                while index < characters.count, characters[index] != character {
                    if characters[index] == "\\", index + 1 < characters.count {
                        index += 1
                    }
                    value.append(characters[index])
                    index += 1
                }
                guard index < characters.count else { throw RunbookExpression.SyntaxError(offset: start, message: "unterminated string") }
                index += 1
                tokens.append(ExpressionToken(kind: .string(value), offset: start))
                continue
            }
            if character.isLetter || character == "_" {
                while index < characters.count, characters[index].isLetter || characters[index].isNumber || characters[index] == "_" || characters[index] == "-" {
                    index += 1
                }
                tokens.append(ExpressionToken(kind: .identifier(String(characters[start..<index])), offset: start))
                continue
            }
            let rest = String(characters[index..<min(index + 2, characters.count)])
            guard let symbol = symbols.first(where: { rest.hasPrefix($0) }) else {
                let hint = character == "=" ? " (compare with ==)" : (character == "&" || character == "|" ? " (use && and ||)" : "")
                throw RunbookExpression.SyntaxError(offset: start, message: "unexpected '\(character)'\(hint)")
            }
            index += symbol.count
            tokens.append(ExpressionToken(kind: .symbol(symbol), offset: start))
        }
        return tokens
    }
}

struct ExpressionParser {
    var tokens: [ExpressionToken]
    var length: Int
    var position = 0
    /// Nesting bound: hostile input must not exhaust the stack.
    var depth = 0

    var peek: ExpressionToken? { position < tokens.count ? tokens[position] : nil }

    mutating func take(_ symbol: String) -> Bool {
        guard peek?.kind == .symbol(symbol) else { return false }
        position += 1
        return true
    }

    mutating func expect(_ symbol: String, _ context: String) throws(RunbookExpression.SyntaxError) {
        guard take(symbol) else {
            throw RunbookExpression.SyntaxError(offset: peek?.offset ?? length, message: "expected '\(symbol)' \(context), found \(peek?.kind.text ?? "the end")")
        }
    }

    mutating func parseOr() throws(RunbookExpression.SyntaxError) -> RunbookExpression {
        depth += 1
        defer { depth -= 1 }
        guard depth < 64 else { throw RunbookExpression.SyntaxError(offset: peek?.offset ?? length, message: "the expression is nested too deeply") }
        var left = try parseAnd()
        while take("||") { left = .binary(.or, left, try parseAnd()) }
        return left
    }

    mutating func parseAnd() throws(RunbookExpression.SyntaxError) -> RunbookExpression {
        var left = try parseNot()
        while take("&&") { left = .binary(.and, left, try parseNot()) }
        return left
    }

    mutating func parseNot() throws(RunbookExpression.SyntaxError) -> RunbookExpression {
        if take("!") {
            depth += 1
            defer { depth -= 1 }
            guard depth < 64 else { throw RunbookExpression.SyntaxError(offset: peek?.offset ?? length, message: "the expression is nested too deeply") }
            return .not(try parseNot())
        }
        return try parseComparison()
    }

    mutating func parseComparison() throws(RunbookExpression.SyntaxError) -> RunbookExpression {
        let left = try parsePrimary()
        for op in [RunbookExpression.Operator.equal, .notEqual, .lessOrEqual, .greaterOrEqual, .less, .greater] where take(op.rawValue) {
            return .binary(op, left, try parsePrimary())
        }
        return left
    }

    mutating func parsePrimary() throws(RunbookExpression.SyntaxError) -> RunbookExpression {
        guard let token = peek else { throw RunbookExpression.SyntaxError(offset: length, message: "the expression ends where a value was expected") }
        position += 1
        switch token.kind {
        case .number(let value): return .literal(.number(value))
        case .string(let value): return .literal(.string(value))
        case .symbol("("):
            let inner = try parseOr()
            try expect(")", "to close the '(' at \(token.offset + 1)")
            return inner
        case .identifier(let name):
            switch name {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            default: break
            }
            var path = [name]
            while take(".") {
                guard case .identifier(let part)? = peek?.kind else {
                    throw RunbookExpression.SyntaxError(offset: peek?.offset ?? length, message: "expected a name after '.'")
                }
                position += 1
                path.append(part)
            }
            guard take("(") else { return .name(path, offset: token.offset) }
            var arguments: [RunbookExpression] = []
            if !take(")") {
                repeat { arguments.append(try parseOr()) } while take(",")
                try expect(")", "after the arguments of \(path.joined(separator: "."))(")
            }
            return .call(path, arguments: arguments, offset: token.offset)
        case .symbol(let symbol):
            throw RunbookExpression.SyntaxError(offset: token.offset, message: "unexpected '\(symbol)' where a value was expected")
        }
    }
}
