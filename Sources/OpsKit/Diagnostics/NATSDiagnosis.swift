import Foundation
import NIOConcurrencyHelpers

/// `diag nats`: /varz against the playbook, /connz sorted by pending bytes (which clients fall
/// behind, by name), slow consumers, /jsz when JetStream is on.
public struct NATSDiagnosis: Sendable {
    public var monitorURL: String
    public var tier: CapacityTier
    /// Pending bytes on one connection worth naming.
    var pendingWarning = 1 << 20
    /// The client URL for `--rtt`: a publish and its delivery back through the server.
    var rttURL: String?
    var rttRounds = 20
    /// Why the monitoring port did not answer earlier in the same run: reported without waiting again.
    public var unanswered: String?

    public init(monitorURL: String, tier: CapacityTier) {
        self.monitorURL = monitorURL
        self.tier = tier
    }

    static func unreachable(_ base: String, observed: String) -> Finding {
        Finding(
            "nats", "reachable", .critical, "NATS monitoring does not answer at \(base)", observed: observed, source: GuideSection.operations,
            fix: "systemctl status nats-server (or docker compose ps nats); the servers' NATS_URL and nats.monitor_url (nats-server -m 8222)")
    }

    public func run(in environment: ProbeEnvironment) async -> [Finding] {
        let base = monitorURL.hasSuffix("/") ? String(monitorURL.dropLast()) : monitorURL
        func get(_ path: String) async throws -> JSONValue {
            let response = try await environment.http.get(base + path, timeout: environment.timeout)
            guard response.isSuccess else { throw OpsError(.serverError, "\(path) answered HTTP \(response.status)", endpoint: base) }
            return try JSONValue.parse(response.body)
        }
        if let unanswered { return [Self.unreachable(base, observed: unanswered)] }
        let varz: JSONValue
        do {
            varz = try await get("/varz")
        } catch {
            return [Self.unreachable(base, observed: "\(error)")]
        }
        let connz = try? await get("/connz?subs=1&sort=pending&limit=20")
        let jsz = varz["jetstream"]?["config"] != nil ? try? await get("/jsz") : nil
        var findings = evaluate(varz: varz, connz: connz, jsz: jsz)
        if let rttURL { findings.append(await roundTrip(rttURL, timeout: environment.timeout)) }
        return findings
    }

    /// Publishes to a subject of its own and waits for each message to come back.
    func roundTrip(_ url: String, timeout: Duration) async -> Finding {
        do {
            var options = NATSClient.Options()
            options.name = "whisperctl-diag"
            options.discoverServers = false
            let client = NATSClient(servers: try NATSAddress.list(parsing: url), options: options)
            try await client.connect()
            let subject = "_whisperctl.rtt.\(UInt64.random(in: 0...UInt64.max))"
            let arrival = ArrivalSignal()
            _ = try client.subscribe(to: subject) { _ in arrival.arrived() }
            try await client.flush(timeout: timeout)
            var samples: [Double] = []
            for _ in 0..<rttRounds {
                let started = ContinuousClock.now
                try client.publish("rtt", to: subject)
                guard await arrival.wait(timeout: timeout) else { throw OpsError.timedOut(after: timeout, endpoint: url) }
                samples.append((ContinuousClock.now - started).seconds * 1000)
            }
            await client.close()
            samples.sort()
            let p99 = samples[min(samples.count - 1, Int(Double(samples.count) * 0.99))]
            return Finding("nats", "rtt", p99 > 10 ? .warning : .ok, "publish/subscribe round trip",
                observed: String(format: "%d round trips: p50 %.2f ms, p99 %.2f ms", samples.count, samples[samples.count / 2], p99),
                recommended: p99 > 10 ? "under 10 ms on a LAN" : nil)
        } catch {
            return Finding("nats", "rtt", .critical, "no round trip through NATS at \(url)", observed: "\(error)",
                fix: "NATS_URL / nats.url; nats-server -p; a firewall between here and NATS")
        }
    }

    public func evaluate(varz: JSONValue, connz: JSONValue?, jsz: JSONValue?) -> [Finding] {
        var findings: [Finding] = []
        let connections = varz["connections"]?.intValue ?? 0
        let maxConnections = varz["max_connections"]?.intValue ?? 65_536
        findings.append(Finding(
            "nats", "connections", Double(connections) >= 0.9 * Double(maxConnections) ? .warning : .ok, "connections",
            observed: "\(connections) of max_connections \(maxConnections), \(varz["subscriptions"]?.intValue ?? 0) subscriptions, version \(varz["version"]?.stringValue ?? "?")",
            recommended: "max_connections \(tier.natsMaxConnections)", source: GuideSection.natsConfig))
        let slow = varz["slow_consumers"]?.intValue ?? 0
        var slowClients: [String] = []
        var pending: [String] = []
        if case .array(let list)? = connz?["connections"] {
            for connection in list {
                let name = connection["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "cid \(connection["cid"]?.intValue ?? 0)"
                let bytes = connection["pending_bytes"]?.intValue ?? 0
                if bytes >= pendingWarning { pending.append("\(name) (\(connection["ip"]?.stringValue ?? "?")) \(ByteCount.format(bytes)) pending") }
                if (connection["slow_consumer"]?.boolValue ?? false) || (connection["stalls"]?.intValue ?? 0) > 0 { slowClients.append(name) }
            }
        }
        if slow > 0 || !pending.isEmpty {
            findings.append(Finding(
                "nats", "slow-consumers", .warning, "NATS has slow consumers: messages to them are dropped",
                observed: "slow_consumers \(slow) since start" + (pending.isEmpty ? "" : "; now: " + pending.prefix(5).joined(separator: ", "))
                    + (slowClients.isEmpty ? "" : "; flagged: " + slowClients.prefix(5).joined(separator: ", ")),
                recommended: "0; write_deadline 10s, max_pending 128 MB", source: GuideSection.natsBottlenecks,
                fix: "find the client by name in /connz?sort=pending; a whisper-server that falls behind needs CPU; nats-server.conf: max_pending: 134217728"))
        }
        let payload = varz["max_payload"]?.intValue ?? 0
        if payload > 65_536 {
            findings.append(Finding("nats", "max_payload", .info, "max_payload above the recommendation", observed: "max_payload \(ByteCount.format(payload))",
                recommended: "65536 (chat messages are under 4 KB)", source: GuideSection.natsConfig, fix: "nats-server.conf: max_payload: 65536"))
        }
        if let maxPending = varz["max_pending"]?.intValue, maxPending < 134_217_728, tier.connections >= 500_000 {
            findings.append(Finding("nats", "max_pending", .info, "max_pending below the recommendation for this tier", observed: "max_pending \(ByteCount.format(maxPending))",
                recommended: "134217728 (128 MB)", source: GuideSection.natsConfig, fix: "nats-server.conf: max_pending: 134217728"))
        }
        if let deadline = varz["write_deadline"]?.intValue {
            let seconds = Double(deadline) / 1e9
            if seconds < 2 || seconds > 30 {
                findings.append(Finding("nats", "write_deadline", .info, "write_deadline far from the recommendation", observed: String(format: "write_deadline %.1f s", seconds),
                    recommended: "10s", source: GuideSection.natsConfig, fix: "nats-server.conf: write_deadline: \"10s\""))
            }
        }
        if let jsz {
            findings.append(Finding("nats", "jetstream", .ok, "JetStream", observed: "\(jsz["streams"]?.intValue ?? 0) streams, \(jsz["consumers"]?.intValue ?? 0) consumers, \(ByteCount.format(jsz["storage"]?.intValue ?? 0)) stored"))
        }
        return findings
    }
}

/// One message at a time: `wait` returns true when it arrived, false after the timeout.
private final class ArrivalSignal: Sendable {
    private let state = NIOLockedValueBox<(waiter: CheckedContinuation<Bool, Never>?, early: Int, round: Int)>((nil, 0, 0))

    func arrived() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiter else {
                state.early += 1
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: true)
    }

    func wait(timeout: Duration) async -> Bool {
        await withTimeout(timeout) { await self.arrival() } onTimeout: { false }
    }

    /// True when a message arrived, false once the waiting task is cancelled.
    private func arrival() async -> Bool {
        let round = NIOLockedValueBox<Int?>(nil)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let mine = state.withLockedValue { state -> Int? in
                    if state.early > 0 {
                        state.early -= 1
                        return nil
                    }
                    state.waiter = continuation
                    state.round += 1
                    return state.round
                }
                guard let mine else { return continuation.resume(returning: true) }
                round.withLockedValue { $0 = mine }
                if Task.isCancelled { self.expire(mine) }
            }
        } onCancel: {
            if let mine = round.withLockedValue({ $0 }) { self.expire(mine) }
        }
    }

    /// Gives up this round's wait only: a later round waits on its own.
    private func expire(_ round: Int) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
            guard state.round == round, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: false)
    }
}
