import Foundation

/// HAProxy's stats CSV (`show stat`, or the stats page with `;csv`), parsed by column name.
public struct HAProxyStats: Sendable {
    public struct Row: Sendable {
        public var fields: [String: String]
        public var proxy: String { fields["pxname"] ?? "" }
        public var service: String { fields["svname"] ?? "" }
        public var status: String { fields["status"] ?? "" }
        public var currentSessions: Int? { fields["scur"].flatMap { Int($0) } }
        public var checkStatus: String? { check?.status }
        public var check: HAProxyCheck? { HAProxyCheck(raw: fields["check_status"]) }
        var checkCode: String? { fields["check_code"].flatMap { $0.isEmpty ? nil : $0 } }
        var lastCheck: String? { fields["last_chk"].flatMap { $0.isEmpty ? nil : $0 } }
        public var weight: Int? { fields["weight"].flatMap { Int($0) } }
        var isServer: Bool { service != "FRONTEND" && service != "BACKEND" }
    }

    public var rows: [Row]

    /// - Throws: `OpsError(.protocolError)` when the text is not HAProxy's CSV (no `# pxname,...` header).
    public init(csv: String) throws {
        var lines = csv.split(whereSeparator: \.isNewline).map(String.init)
        guard let header = lines.first, header.hasPrefix("# ") else {
            throw OpsError(.protocolError, "not HAProxy stats CSV (no '# pxname,...' header line)")
        }
        lines.removeFirst()
        let columns = header.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard columns.first == "pxname", columns.contains("svname"), columns.contains("status") else {
            throw OpsError(.protocolError, "HAProxy stats CSV lacks pxname/svname/status columns")
        }
        rows = lines.map { line in
            let values = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var fields: [String: String] = [:]
            for (index, column) in columns.enumerated() where index < values.count && !column.isEmpty {
                fields[column] = values[index]
            }
            return Row(fields: fields)
        }
    }

    /// The servers of one backend, in configuration order.
    public func servers(ofBackend backend: String) -> [Row] {
        rows.filter { $0.proxy == backend && $0.isServer }
    }

    func backendRow(_ backend: String) -> Row? {
        rows.first { $0.proxy == backend && $0.service == "BACKEND" }
    }

    public var backendNames: [String] {
        var seen: [String] = []
        for row in rows where row.service == "BACKEND" && !seen.contains(row.proxy) { seen.append(row.proxy) }
        return seen
    }
}

/// A backend server's state as HAProxy means it (the stats CSV's `status` field).
public enum HAProxyServerState: String, Sendable {
    case up = "UP"
    case down = "DOWN"
    /// "UP 1/3": serving, but failing checks: `fall` failures in a row take it down.
    case goingDown = "GOING DOWN"
    /// "DOWN 1/2": not serving yet, passing checks: `rise` successes in a row bring it up.
    case goingUp = "GOING UP"
    case drain = "DRAIN"
    /// Up but taking no new traffic (a 404 check with `disable-on-404`).
    case nolb = "NOLB"
    case maint = "MAINT"
    case noCheck = "NO CHECK"
    case other = "OTHER"

    /// Maps HAProxy's status strings: "UP", "UP 1/3", "DOWN", "DOWN 1/2", "DRAIN", "NOLB",
    /// "MAINT", "MAINT (via b/s)", "MAINT (resolution)", "no check".
    public init(haproxyStatus raw: String) {
        let status = raw.uppercased().trimmingCharacters(in: .whitespaces)
        let transitional = HAProxyServerState.progress(in: raw) != nil
        if status.hasPrefix("MAINT") {
            self = .maint
        } else if status.hasPrefix("DRAIN") {
            self = .drain
        } else if status.hasPrefix("NOLB") {
            self = .nolb
        } else if status.hasPrefix("DOWN") {
            self = transitional ? .goingUp : .down
        } else if status.hasPrefix("UP") {
            self = transitional ? .goingDown : .up
        } else if status == "NO CHECK" {
            self = .noCheck
        } else {
            self = .other
        }
    }

    /// Whether HAProxy sends it new connections.
    var servesNewConnections: Bool { self == .up || self == .goingDown || self == .noCheck }

    /// "DOWN 1/2" → (1, 2): checks passed (or failed) so far, and how many change the state.
    public static func progress(in raw: String) -> (done: Int, needed: Int)? {
        guard let space = raw.lastIndex(of: " ") else { return nil }
        let parts = raw[raw.index(after: space)...].split(separator: "/")
        guard parts.count == 2, let done = Int(parts[0]), let needed = Int(parts[1]) else { return nil }
        return (done, needed)
    }
}

/// The last health check as HAProxy reports it: "* L7OK" while a check is running.
public struct HAProxyCheck: Sendable, Equatable {
    public var status: String
    public var inProgress: Bool

    public init?(raw: String?) {
        guard var text = raw?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        inProgress = text.hasPrefix("*")
        if inProgress { text = String(text.dropFirst()).trimmingCharacters(in: .whitespaces) }
        status = text
    }
}
