import Foundation

/// The rows a statement returned, every value kept in PostgreSQL's text format with its type.
public struct PostgresResult: Sendable {
    public struct Column: Sendable, Equatable {
        public var name: String
        /// The type's OID (23 int4, 20 int8, 25 text, 16 bool, 1184 timestamptz, ...).
        var typeOID: UInt32
    }

    public var columns: [Column]
    public var rows: [PostgresRow]
    /// The command tag, e.g. "INSERT 0 1" or "SELECT 3".
    var commandTag: String
    /// Rows inserted, updated or deleted, when the command reports it.
    public var affectedRows: Int?
}

/// One row; look values up by column name or index.
public struct PostgresRow: Sendable {
    public let columns: [PostgresResult.Column]
    public let values: [String?]

    public subscript(_ index: Int) -> PostgresCell {
        PostgresCell(column: columns[index], text: values[index])
    }

    /// The cell of the named column; a missing column reads as NULL.
    public subscript(_ name: String) -> PostgresCell {
        guard let index = columns.firstIndex(where: { $0.name == name }) else {
            return PostgresCell(column: PostgresResult.Column(name: name, typeOID: 0), text: nil)
        }
        return self[index]
    }
}

/// One value, decoded on request into the Swift type the caller needs.
public struct PostgresCell: Sendable {
    public let column: PostgresResult.Column
    /// The text form PostgreSQL sent, nil for NULL.
    public let text: String?

    public var isNull: Bool { text == nil }
    public var string: String? { text }
    public var int: Int? { text.flatMap { Int($0) } }
    public var double: Double? { text.flatMap { Double($0) } }
    public var bool: Bool? {
        switch text {
        case "t", "true": return true
        case "f", "false": return false
        default: return nil
        }
    }

    /// A `timestamptz` or `timestamp` (taken as UTC) value.
    public var date: Date? {
        guard var text else { return nil }
        // PostgreSQL writes "2026-11-21 19:29:01.123456+00"; ISO 8601 wants "T" and "+00:00".
        text = text.replacingOccurrences(of: " ", with: "T")
        if let sign = text.lastIndex(where: { $0 == "+" || $0 == "-" }), text.distance(from: sign, to: text.endIndex) == 3,
            text[..<sign].contains("T")
        {
            text += ":00"
        } else if !text.hasSuffix("Z"), !text.contains("+"), text.split(separator: "T").last?.contains("-") == false {
            text += "Z"
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

/// A value bound to a `$n` placeholder, sent in PostgreSQL's text format.
public protocol PostgresBindable: Sendable {
    var postgresText: String { get }
}

extension String: PostgresBindable { public var postgresText: String { self } }
extension Int: PostgresBindable { public var postgresText: String { String(self) } }
extension Int64: PostgresBindable { public var postgresText: String { String(self) } }
extension Double: PostgresBindable { public var postgresText: String { String(self) } }
extension Bool: PostgresBindable { public var postgresText: String { self ? "t" : "f" } }
extension Date: PostgresBindable {
    public var postgresText: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: self)
    }
}
