import Foundation
import CLibPQ

/// A PostgreSQL connection string (URL or key=value), checked by libpq's own parser.
public struct PostgresConnectionInfo: Sendable, Equatable {
    /// The string as given: it may hold a password, so it is never printed.
    let connectionString: String
    public let host: String
    public let port: Int
    public let database: String?
    public let user: String?
    public let hasPassword: Bool
    /// Every keyword libpq parsed, password included: never printed, only handed to child programs.
    let keywords: [String: String]

    /// Parses with `PQconninfoParse`, so whatever libpq accepts is accepted here.
    public init(parsing connectionString: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            let reason = errorMessage.map { String(cString: $0) } ?? "invalid connection string"
            if let errorMessage { PQfreemem(errorMessage) }
            throw OpsError(.invalidInput, "invalid PostgreSQL URL: " + reason.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            if let value = cursor.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            cursor += 1
        }
        let host = values["hostaddr"] ?? values["host"] ?? "localhost"
        guard let port = Int(values["port"] ?? "5432"), (1...65535).contains(port) else {
            throw OpsError(.invalidInput, "invalid PostgreSQL URL: port must be 1-65535")
        }
        self.connectionString = connectionString
        self.host = host
        self.port = port
        self.database = values["dbname"]
        self.user = values["user"]
        self.hasPassword = !(values["password"] ?? "").isEmpty
        self.keywords = values
    }

    /// How a child program (pg_dump, pg_restore, psql) reaches the same database, or `database`
    /// instead: a key=value connection string without the password, and the password in
    /// PGPASSWORD, so it never shows in the process list.
    public func forChildProcess(database: String? = nil) -> (connectionString: String, environment: [String: String]) {
        var values = keywords
        let password = values.removeValue(forKey: "password")
        if let database { values["dbname"] = database }
        let text = values.sorted { $0.key < $1.key }.map { key, value in
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            return "\(key)='\(escaped)'"
        }.joined(separator: " ")
        return (text, password.map { ["PGPASSWORD": $0] } ?? [:])
    }

    /// "host:port", or the socket directory for unix sockets.
    public var endpoint: String {
        host.hasPrefix("/") ? "\(host)/.s.PGSQL.\(port)" : (host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
    }

    /// The connection string with its password masked.
    public var redacted: String { Redactor.redactURL(connectionString) }
}
