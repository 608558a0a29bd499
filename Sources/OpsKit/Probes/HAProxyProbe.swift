/// Probes HAProxy through its stats page: the state of each server of the backend.
public struct HAProxyProbe: Sendable {
    public var statsURL: String
    public var backend: String
    /// The inventory's servers: HAProxy's address for each name is checked against its URL.
    public var servers: [ServerEntry]

    public init(statsURL: String, backend: String, servers: [ServerEntry] = []) {
        self.statsURL = statsURL
        self.backend = backend
        self.servers = servers
    }

    /// The stats page's CSV export: HAProxy serves it at the stats URI followed by ";csv".
    var csvURL: String {
        if statsURL.hasSuffix(";csv") { return statsURL }
        if let query = statsURL.firstIndex(of: "?") { return statsURL[..<query] + ";csv" + statsURL[query...] }
        return statsURL + ";csv"
    }

    public func run(in environment: ProbeEnvironment) async -> ComponentReport {
        if let problem = URLCheck.problem(statsURL, schemes: ["http", "https"]) {
            return ComponentReport(name: "haproxy", kind: .haproxy, status: .unknown, detail: problem, endpoint: statsURL)
        }
        let response: HTTPResponse
        let stats: HAProxyStats
        do {
            response = try await environment.http.get(csvURL, timeout: environment.timeout, insecureTLS: environment.insecureTLS)
            guard response.isSuccess else {
                return ComponentReport(
                    name: "haproxy", kind: .haproxy, status: .critical,
                    detail: "stats page answered HTTP \(response.status)", latency: response.elapsed, endpoint: statsURL)
            }
            stats = try HAProxyStats(csv: response.text)
        } catch {
            return .failed(name: "haproxy", kind: .haproxy, endpoint: statsURL, error: error)
        }
        return evaluate(stats, latency: response.elapsed)
    }

    /// Turns the stats of `backend` into a verdict: any server not UP is a warning, no UP server is critical.
    public func evaluate(_ stats: HAProxyStats, latency: Duration?) -> ComponentReport {
        guard stats.backendRow(backend) != nil || !stats.servers(ofBackend: backend).isEmpty else {
            let known = stats.backendNames.joined(separator: ", ")
            return ComponentReport(
                name: "haproxy", kind: .haproxy, status: .critical,
                detail: "backend '\(backend)' not found (backends: \(known.isEmpty ? "none" : known))",
                latency: latency, endpoint: statsURL)
        }
        let servers = stats.servers(ofBackend: backend)
        let states = servers.map { HAProxyServerState(haproxyStatus: $0.status) }
        let serving = states.filter(\.servesNewConnections).count
        let sessions = servers.compactMap(\.currentSessions).reduce(0, +)
        var notes = ["\(serving)/\(servers.count) serving", "\(sessions) sessions"]
        for (server, state) in zip(servers, states) where state != .up && state != .noCheck {
            var note = "\(server.service) \(server.status)"
            if state == .goingUp || state == .goingDown { note += " (\(state.rawValue.lowercased()))" }
            if let check = server.check {
                note += " (\(check.status)\(server.checkCode.map { "/\($0)" } ?? "")\(check.inProgress ? ", checking" : ""))"
            }
            notes.append(note)
        }
        var status: HealthStatus
        if servers.isEmpty || serving == 0 {
            status = .critical
        } else if serving < servers.count {
            status = .warning
        } else {
            status = .ok
        }
        for entry in self.servers {
            let row = servers.first { $0.service == entry.name }
            if let mismatch = ServerIdentity.addressMismatch(entry, haproxyAddress: row?.fields["addr"]) {
                status = HealthStatus.worst([status, .warning])
                notes.append(mismatch)
            }
        }
        let serverFacts: [JSONValue] = zip(servers, states).map { server, state -> JSONValue in
            let progress = HAProxyServerState.progress(in: server.status)
            return .object([
                ("name", .string(server.service)), ("status", .string(state.rawValue)),
                ("haproxy_status", .string(server.status)),
                ("progress", progress.map { .object([("done", .int($0.done)), ("needed", .int($0.needed))]) } ?? .null),
                ("serving", .bool(state.servesNewConnections)),
                ("sessions", server.currentSessions.map(JSONValue.int) ?? .null),
                ("check_status", server.check.map { .string($0.status) } ?? .null),
                ("check_in_progress", .bool(server.check?.inProgress ?? false)),
                ("last_check", server.lastCheck.map(JSONValue.string) ?? .null),
            ])
        }
        return ComponentReport(
            name: "haproxy", kind: .haproxy, status: status, detail: notes.joined(separator: ", "), latency: latency,
            endpoint: statsURL,
            facts: [("backend", .string(backend)), ("sessions", .int(sessions)), ("servers", .array(serverFacts))])
    }
}
