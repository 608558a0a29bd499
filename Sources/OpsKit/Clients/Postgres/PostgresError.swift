/// An error reported by the PostgreSQL server (or libpq), with the fields an operator needs
/// to act on it. It never holds the connection string.
public struct PostgresError: Error, Sendable, Equatable {
    /// The five-character SQLSTATE, e.g. "42P01" (undefined table).
    public var sqlState: String?
    /// ERROR, FATAL, PANIC, ...
    public var severity: String?
    /// The server's primary message.
    public var message: String
    public var detail: String?
    var hint: String?
    /// 1-based character offset of the error in the statement, when the server gives one.
    public var position: Int?
    /// host:port of the server.
    public var endpoint: String?

    public init(
        sqlState: String? = nil, severity: String? = nil, message: String, detail: String? = nil,
        hint: String? = nil, position: Int? = nil, endpoint: String? = nil
    ) {
        self.sqlState = sqlState
        self.severity = severity
        self.message = Redactor.redactURL(message)
        self.detail = detail
        self.hint = hint
        self.position = position
        self.endpoint = endpoint
    }
}

extension PostgresError: CustomStringConvertible {
    public var description: String {
        var text = severity.map { "\($0): " } ?? ""
        text += message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let position { text += " at character \(position)" }
        if let endpoint { text += " on \(endpoint)" }
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        return text
    }
}
