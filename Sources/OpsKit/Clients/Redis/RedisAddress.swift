import Foundation

/// Where a Redis server listens: `host:port` (REDIS_ADDR's form), a `redis://` URL, or a unix socket path.
public struct RedisAddress: Sendable, Equatable, CustomStringConvertible {
    public enum Location: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)
    }

    public var location: Location
    public var password: String?
    public var database: Int?

    public init(location: Location, password: String? = nil, database: Int? = nil) {
        self.location = location
        self.password = password
        self.database = database
    }

    /// Parses "host:port", "host" (port 6379), "[::1]:6379", "/path/redis.sock",
    /// or "redis://[:password@]host[:port][/db]".
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw OpsError(.invalidInput, "empty Redis address") }
        if trimmed.hasPrefix("/") {
            self.init(location: .unixSocket(path: trimmed))
            return
        }
        var rest = Substring(trimmed)
        var password: String?
        var database: Int?
        if rest.hasPrefix("redis://") {
            rest = rest.dropFirst("redis://".count)
            if let at = rest.lastIndex(of: "@") {
                let userinfo = rest[..<at]
                let secret = userinfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).last.map(String.init)
                password = secret.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding ?? $0 }
                rest = rest[rest.index(after: at)...]
            }
            if let slash = rest.firstIndex(of: "/") {
                let db = rest[rest.index(after: slash)...]
                if !db.isEmpty {
                    guard let n = Int(db), n >= 0 else {
                        throw OpsError(.invalidInput, "invalid Redis database number '\(db)'")
                    }
                    database = n
                }
                rest = rest[..<slash]
            }
        }
        let (host, port) = try HostPort.split(String(rest), defaultPort: 6379, what: "Redis address")
        self.init(location: .tcp(host: host, port: port), password: password, database: database)
    }

    public var description: String {
        switch location {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unixSocket(let path): return path
        }
    }
}

/// Splits and checks `host:port` strings.
public enum HostPort {
    public static func split(_ text: String, defaultPort: Int?, what: String) throws -> (host: String, port: Int) {
        var host = Substring(text)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else {
                throw OpsError(.invalidInput, "invalid \(what) '\(text)': unclosed '['")
            }
            let after = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw OpsError(.invalidInput, "invalid \(what) '\(text)'")
            }
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || "/@?#".contains($0) }) else {
            throw OpsError(.invalidInput, "invalid \(what) '\(text)': expected host:port")
        }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else {
                throw OpsError(.invalidInput, "invalid \(what) '\(text)': port must be 1-65535")
            }
            return (String(host), port)
        }
        guard let defaultPort else {
            throw OpsError(.invalidInput, "invalid \(what) '\(text)': missing port")
        }
        return (String(host), defaultPort)
    }
}
