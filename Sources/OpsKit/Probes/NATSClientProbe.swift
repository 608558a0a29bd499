import Foundation

/// Probes NATS over its client protocol when no monitoring port is configured: connect, PING,
/// PONG. It says NATS answers, not how loaded it is (that needs `nats.monitor_url`).
public struct NATSClientProbe: Sendable {
    public var url: String

    public init(url: String) { self.url = url }

    public func run(in environment: ProbeEnvironment) async -> ComponentReport {
        let endpoint = Redactor.redactURL(url)
        let servers: [NATSAddress]
        do { servers = try NATSAddress.list(parsing: url) } catch {
            return ComponentReport(name: "nats", kind: .nats, status: .unknown, detail: "nats.url: \(error)", endpoint: endpoint)
        }
        var options = NATSClient.Options()
        options.name = "whisperctl"
        options.connectTimeout = environment.timeout
        // Only the nodes given: a probe says whether they answer, not whether the cluster does.
        options.discoverServers = false
        let client = NATSClient(servers: servers, options: options)
        let started = ContinuousClock.now
        do {
            try await client.connect()
            try await client.flush(timeout: environment.timeout)
            let latency = ContinuousClock.now - started
            await client.close()
            return ComponentReport(
                name: "nats", kind: .nats, status: .ok, detail: "ok (PING answered; set nats.monitor_url for connections and slow consumers)",
                latency: latency, endpoint: endpoint)
        } catch {
            await client.close()
            return .failed(name: "nats", kind: .nats, endpoint: endpoint, error: error)
        }
    }
}
