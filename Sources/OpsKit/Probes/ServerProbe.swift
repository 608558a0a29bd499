/// Probes one whisper-server: `/health` (JSON) and `/ready`, concurrently.
public struct ServerProbe: Sendable {
    public var entry: ServerEntry
    /// The names of every server of the inventory: answering as one of the others is a mismatch.
    public var fleet: [String]

    public init(entry: ServerEntry, fleet: [String] = []) {
        self.entry = entry
        self.fleet = fleet
    }

    public func run(in environment: ProbeEnvironment) async -> ComponentReport {
        let base = entry.url.hasSuffix("/") ? String(entry.url.dropLast()) : entry.url
        if let problem = URLCheck.problem(base, schemes: ["http", "https"]) {
            return ComponentReport(name: entry.name, kind: .server, status: .unknown, detail: problem, endpoint: base)
        }
        let http = environment.http
        let timeout = environment.timeout
        let insecure = environment.insecureTLS
        async let healthResult = Result(catching: { try await http.get(base + "/health", timeout: timeout, insecureTLS: insecure) })
        async let readyResult = Result(catching: { try await http.get(base + "/ready", timeout: timeout, insecureTLS: insecure) })
        let (health, ready) = await (healthResult, readyResult)

        let response: HTTPResponse
        switch health {
        case .failure(let error):
            return .failed(name: entry.name, kind: .server, endpoint: base, error: error)
        case .success(let value):
            response = value
        }
        let body = try? JSONValue.parse(response.body)
        let reported = body?["status"]?.stringValue
        let connections = body?["connections"]?.intValue
        let version = body?["version"]?.stringValue
        let draining = body?["draining"]?.boolValue ?? false
        let readyStatus = try? ready.get().status
        let reportedName = body?["server"]?.stringValue

        var status: HealthStatus = .ok
        var notes: [String] = []
        if response.status >= 500 || reported == "unhealthy" {
            status = .critical
            notes.append("unhealthy (HTTP \(response.status))" + failingChecks(body))
        } else if !response.isSuccess {
            status = .critical
            notes.append("/health answered HTTP \(response.status)")
        } else if reported == "degraded" {
            status = .warning
            notes.append("degraded" + failingChecks(body))
        } else {
            notes.append(reported ?? "up")
        }
        switch ready {
        case .success(let answer) where answer.status != 200:
            status = HealthStatus.worst([status, .warning])
            notes.append(draining ? "draining, not ready (HTTP \(answer.status))" : "not ready (HTTP \(answer.status))")
        case .failure(let error):
            status = HealthStatus.worst([status, .warning])
            notes.append("/ready failed: \(describe(error))")
        default: break
        }
        if let mismatch = ServerIdentity.nameMismatch(entry, reported: reportedName, fleet: fleet) {
            status = HealthStatus.worst([status, .warning])
            notes.insert(mismatch, at: 0)
        }
        if let connections { notes.append("\(connections) conns") }
        if let version { notes.append("v\(version)") }

        var facts: [(String, JSONValue)] = [
            ("url", .string(Redactor.redactURL(base))), ("http_status", .int(response.status)),
            ("health", reported.map(JSONValue.string) ?? .null),
            ("ready", readyStatus.map { .bool($0 == 200) } ?? .null),
        ]
        facts.append(("connections", connections.map(JSONValue.int) ?? .null))
        facts.append(("version", version.map(JSONValue.string) ?? .null))
        facts.append(("draining", .bool(draining)))
        facts.append(("server_name", reportedName.map(JSONValue.string) ?? .null))
        return ComponentReport(
            name: entry.name, kind: .server, status: status, detail: notes.joined(separator: ", "),
            latency: response.elapsed, endpoint: base, facts: facts)
    }

    /// " (redis: down)" from a /health body's `checks`, naming what failed.
    private func failingChecks(_ body: JSONValue?) -> String {
        let failing = Self.failingChecks(in: body)
        return failing.isEmpty ? "" : " (" + failing.joined(separator: ", ") + ")"
    }

    /// "redis: down" for each of a /health body's `checks` that is not passing: the one rule of
    /// status and diag.
    static func failingChecks(in body: JSONValue?) -> [String] {
        guard case .object(let checks)? = body?["checks"] else { return [] }
        return checks.compactMap { name, value -> String? in
            let state = value.stringValue ?? value["status"]?.stringValue ?? "?"
            // "ok", or "ok: embedded" with a detail after it.
            let word = state.lowercased().prefix { $0.isLetter }
            guard !["ok", "healthy", "up", "pass"].contains(String(word)) else { return nil }
            return "\(name): \(state)"
        }
    }
}

extension Result where Failure == Error {
    /// The outcome of an async throwing call, so one failure does not discard its siblings' results.
    package init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
