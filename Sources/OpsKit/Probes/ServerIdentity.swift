import Foundation

/// Whether a server is the one the inventory means: the name it reports on /health (its
/// SERVER_NAME), and the address HAProxy sends the traffic of that name to. Two swapped URLs
/// look healthy everywhere else, and a rollout would restart one server while watching another.
public enum ServerIdentity {
    /// What is wrong with `reported` (the `server` field of /health), or nil when it matches,
    /// the server does not say, or it says a name the inventory does not use (SERVER_NAME left
    /// at its default, the host name, is common and harmless). Answering as another server of
    /// the inventory is the mistake: two URLs swapped, or one URL listed twice.
    public static func nameMismatch(_ entry: ServerEntry, reported: String?, fleet: [String]) -> String? {
        guard let reported, !reported.isEmpty, reported != entry.name, fleet.contains(reported) else { return nil }
        return "\(entry.url) answers as '\(reported)', not '\(entry.name)' (its SERVER_NAME): the inventory's URL or name is wrong, or two URLs are swapped"
    }

    /// What is wrong with the address HAProxy has for the server named `entry.name` (the `addr`
    /// of `show stat`, "10.0.0.11:8080"), or nil when it matches or cannot be told (a host name
    /// on one side and an address on the other).
    public static func addressMismatch(_ entry: ServerEntry, haproxyAddress: String?) -> String? {
        guard let haproxyAddress, let ours = HostPort(url: entry.url), let theirs = HostPort(address: haproxyAddress) else { return nil }
        guard ours.comparable(with: theirs), ours != theirs else { return nil }
        return "HAProxy's server '\(entry.name)' is \(haproxyAddress), but the inventory's \(entry.name) is \(ours.host):\(ours.port): HAProxy would drain a different server than the one watched"
    }

    struct HostPort: Equatable {
        var host: String
        var port: Int

        init?(url: String) {
            guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else { return nil }
            self.host = Self.canonical(host)
            port = components.port ?? (components.scheme == "https" ? 443 : 80)
        }

        init?(address: String) {
            guard !address.hasPrefix("unix@"), !address.hasPrefix("/"), let colon = address.lastIndex(of: ":"),
                let port = Int(address[address.index(after: colon)...])
            else { return nil }
            let host = address[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            guard !host.isEmpty else { return nil }
            self.host = Self.canonical(host)
            self.port = port
        }

        /// Both literal addresses, or the same name: otherwise only DNS could tell.
        func comparable(with other: HostPort) -> Bool {
            (isAddress && other.isAddress) || host == other.host
        }

        var isAddress: Bool { host.allSatisfy { $0.isNumber || $0 == "." } || host.contains(":") }

        private static func canonical(_ host: String) -> String {
            let lowered = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            return lowered == "localhost" ? "127.0.0.1" : lowered
        }
    }
}
