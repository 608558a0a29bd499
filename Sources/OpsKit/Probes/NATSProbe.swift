/// Probes NATS through its monitoring port: `/healthz` and `/varz`, concurrently.
public struct NATSProbe: Sendable {
    public var monitorURL: String

    public init(monitorURL: String) { self.monitorURL = monitorURL }

    public func run(in environment: ProbeEnvironment) async -> ComponentReport {
        let base = monitorURL.hasSuffix("/") ? String(monitorURL.dropLast()) : monitorURL
        if let problem = URLCheck.problem(base, schemes: ["http", "https"]) {
            return ComponentReport(name: "nats", kind: .nats, status: .unknown, detail: problem, endpoint: base)
        }
        let http = environment.http
        let timeout = environment.timeout
        async let healthz = Result(catching: { try await http.get(base + "/healthz", timeout: timeout) })
        async let varz = Result(catching: { try await http.get(base + "/varz", timeout: timeout) })
        let (health, vars) = await (healthz, varz)

        let response: HTTPResponse
        switch health {
        case .failure(let error): return .failed(name: "nats", kind: .nats, endpoint: base, error: error)
        case .success(let value): response = value
        }
        let healthBody = try? JSONValue.parse(response.body)
        guard response.isSuccess else {
            let reason = healthBody?["error"]?.stringValue ?? "HTTP \(response.status)"
            return ComponentReport(
                name: "nats", kind: .nats, status: .critical, detail: "healthz: \(reason)", latency: response.elapsed,
                endpoint: base)
        }
        guard case .success(let varzResponse) = vars, varzResponse.isSuccess, let info = try? JSONValue.parse(varzResponse.body)
        else {
            return ComponentReport(
                name: "nats", kind: .nats, status: .warning, detail: "healthy, but /varz is unreadable",
                latency: response.elapsed, endpoint: base)
        }
        return evaluate(varz: info, latency: response.elapsed)
    }

    /// Slow consumers mean subscribers are dropping messages: a warning. So is 90% of max_connections.
    public func evaluate(varz: JSONValue, latency: Duration?) -> ComponentReport {
        let connections = varz["connections"]?.intValue
        let maxConnections = varz["max_connections"]?.intValue
        let slow = varz["slow_consumers"]?.intValue ?? 0
        let inMsgs = varz["in_msgs"]?.intValue
        let outMsgs = varz["out_msgs"]?.intValue
        var status: HealthStatus = .ok
        var notes = ["ok"]
        if let connections { notes.append("\(connections) conns") }
        if slow > 0 {
            status = .warning
            notes.append("\(slow) slow consumers")
        }
        if let connections, let maxConnections, maxConnections > 0, Double(connections) >= 0.9 * Double(maxConnections) {
            status = .warning
            notes.append("near max_connections \(maxConnections)")
        }
        if let inMsgs, let outMsgs { notes.append("in \(inMsgs) / out \(outMsgs) msgs") }
        func int(_ value: Int?) -> JSONValue { value.map(JSONValue.int) ?? .null }
        return ComponentReport(
            name: "nats", kind: .nats, status: status, detail: notes.joined(separator: ", "), latency: latency,
            endpoint: monitorURL,
            facts: [
                ("version", varz["version"] ?? .null), ("connections", int(connections)),
                ("slow_consumers", .int(slow)), ("in_msgs", int(inMsgs)), ("out_msgs", int(outMsgs)),
            ])
    }
}
