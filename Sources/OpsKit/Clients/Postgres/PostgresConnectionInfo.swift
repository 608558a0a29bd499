import Foundation
import CLibPQ

/// A PostgreSQL connection string (URL or key=value), checked by libpq's own parser.
public struct PostgresConnectionInfo: Sendable, Equatable {
    /// The string as given: it may hold a password, so it is never printed.
    public let connectionString: String
    public let host: String
    public let port: Int
    public let database: String?
    public let user: String?
    public let hasPassword: Bool

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
    }

    /// "host:port", or the socket directory for unix sockets.
    public var endpoint: String {
        host.hasPrefix("/") ? "\(host)/.s.PGSQL.\(port)" : (host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
    }

    /// The connection string with its password masked.
    public var redacted: String { Redactor.redactURL(connectionString) }
}
