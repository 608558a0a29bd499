import Foundation

/// A value a runbook expression computes or a step outputs.
public enum RunbookValue: Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case list([RunbookValue])
    case null

    public var json: JSONValue {
        switch self {
        case .string(let text): .string(text)
        case .number(let number): number == number.rounded() && abs(number) < 1e15 ? .int(Int(number)) : .double(number)
        case .bool(let flag): .bool(flag)
        case .list(let items): .array(items.map(\.json))
        case .null: .null
        }
    }

    public init(_ json: JSONValue) {
        switch json {
        case .string(let text): self = .string(text)
        case .int(let number): self = .number(Double(number))
        case .double(let number): self = .number(number)
        case .bool(let flag): self = .bool(flag)
        case .array(let items): self = .list(items.map(RunbookValue.init))
        case .object, .null: self = .null
        }
    }

    /// As text inside an interpolated string: numbers without a needless `.0`.
    public var text: String {
        switch self {
        case .string(let text): text
        case .number(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
        case .bool(let flag): flag ? "true" : "false"
        case .list(let items): items.map(\.text).joined(separator: ",")
        case .null: ""
        }
    }

    var typeName: String {
        switch self {
        case .string: "string"
        case .number: "number"
        case .bool: "bool"
        case .list: "list"
        case .null: "null"
        }
    }
}
