/// HAProxy's stats CSV (`show stat`, or the stats page with `;csv`), parsed by column name.
public struct HAProxyStats: Sendable {
    public struct Row: Sendable {
        public var fields: [String: String]
        public var proxy: String { fields["pxname"] ?? "" }
        public var service: String { fields["svname"] ?? "" }
        public var status: String { fields["status"] ?? "" }
        public var currentSessions: Int? { fields["scur"].flatMap { Int($0) } }
        public var checkStatus: String? { fields["check_status"].flatMap { $0.isEmpty ? nil : $0 } }
        public var checkCode: String? { fields["check_code"].flatMap { $0.isEmpty ? nil : $0 } }
        public var lastCheck: String? { fields["last_chk"].flatMap { $0.isEmpty ? nil : $0 } }
        public var weight: Int? { fields["weight"].flatMap { Int($0) } }
        public var isServer: Bool { service != "FRONTEND" && service != "BACKEND" }
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

    public func backendRow(_ backend: String) -> Row? {
        rows.first { $0.proxy == backend && $0.service == "BACKEND" }
    }

    public var backendNames: [String] {
        var seen: [String] = []
        for row in rows where row.service == "BACKEND" && !seen.contains(row.proxy) { seen.append(row.proxy) }
        return seen
    }
}

/// A backend server's state as operators speak of it.
public enum HAProxyServerState: String, Sendable {
    case up = "UP", down = "DOWN", drain = "DRAIN", maint = "MAINT", noCheck = "NO CHECK", other = "OTHER"

    /// Maps HAProxy's status strings ("UP", "UP 1/3", "DOWN 1/2", "NOLB", "MAINT (via x)", "no check").
    public init(haproxyStatus raw: String) {
        let status = raw.uppercased()
        if status.hasPrefix("MAINT") {
            self = .maint
        } else if status.hasPrefix("DRAIN") || status.hasPrefix("NOLB") {
            self = .drain
        } else if status.hasPrefix("DOWN") {
            self = .down
        } else if status.hasPrefix("UP") {
            self = .up
        } else if status == "NO CHECK" {
            self = .noCheck
        } else {
            self = .other
        }
    }
}
