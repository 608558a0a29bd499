import Foundation

/// Where a NATS server is and how to authenticate: `nats://[user:password@ | token@]host[:port]`.
public struct NATSAddress: Sendable, Equatable, CustomStringConvertible {
    public enum Credentials: Sendable, Equatable {
        case none
        case token(String)
        case userPassword(user: String, password: String)
    }

    public var host: String
    public var port: Int
    public var credentials: Credentials

    public init(host: String, port: Int = 4222, credentials: Credentials = .none) {
        self.host = host
        self.port = port
        self.credentials = credentials
    }

    /// Parses a NATS_URL. The scheme may be omitted (`host:port`); `tls://` is refused, since this
    /// client speaks plain TCP only.
    public init(parsing text: String) throws {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if let range = rest.range(of: "://") {
            let scheme = rest[..<range.lowerBound].lowercased()
            guard scheme == "nats" else {
                throw OpsError(.invalidInput, "unsupported scheme '\(scheme)' (expected nats://)", endpoint: text)
            }
            rest = rest[range.upperBound...]
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        var credentials = Credentials.none
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                credentials = .userPassword(
                    user: String(userInfo[..<colon]).removingPercentEncodingIfPossible,
                    password: String(userInfo[userInfo.index(after: colon)...]).removingPercentEncodingIfPossible)
            } else if !userInfo.isEmpty {
                credentials = .token(String(userInfo).removingPercentEncodingIfPossible)
            }
        }
        guard !rest.isEmpty else { throw OpsError(.invalidInput, "no host in NATS URL", endpoint: text) }
        let (host, port) = try HostPort.split(String(rest), defaultPort: 4222, what: "NATS URL")
        self.init(host: host, port: port, credentials: credentials)
    }

    /// NATS_URL with several servers, comma-separated, as other NATS clients take it
    /// (`nats://a:4222,nats://b:4222`). Credentials written on the first apply to the others.
    public static func list(parsing text: String) throws -> [NATSAddress] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw OpsError(.invalidInput, "no server in NATS URL", endpoint: text) }
        var addresses = try parts.map { try NATSAddress(parsing: $0) }
        for index in addresses.indices.dropFirst() where addresses[index].credentials == .none {
            addresses[index].credentials = addresses[0].credentials
        }
        return addresses
    }

    /// `nats://host:port`, never the credentials.
    public var description: String { "nats://\(host):\(port)" }
}

extension String {
    fileprivate var removingPercentEncodingIfPossible: String { removingPercentEncoding ?? self }
}
