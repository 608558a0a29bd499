import Foundation

/// `diag`: the components of a deployment judged against the guide, concurrently.
///
/// It takes about one probe timeout however many services hang: the first reads (the servers'
/// MAX_CONNECTIONS and the services' own limits, which choose the tier and the kernel's needs)
/// run alongside the server and certificate checks, and a service that did not answer them is
/// reported as such instead of being waited for a second time.
public struct DeploymentDiagnosis: Sendable {
    public static let components = ["redis", "nats", "haproxy", "postgres", "server", "kernel", "cert"]

    public var inventory: Inventory
    /// The components to look at; all of them when empty.
    public var only: [String]
    /// The tier to judge against; by default chosen from the servers' MAX_CONNECTIONS.
    public var tier: CapacityTier?
    /// Between the two /metrics samples of each server.
    public var interval: Duration = .seconds(2)
    /// Read /proc and /sys below this directory.
    public var root = "/"
    /// nats: also a publish/subscribe round trip through `nats.url`.
    public var roundTrip = false
    /// With "server" chosen: only these servers (all when empty).
    public var onlyServers: [String] = []

    public init(inventory: Inventory, only: [String] = [], tier: CapacityTier? = nil) {
        self.inventory = inventory
        self.only = only
        self.tier = tier
    }

    /// What a run found, with the tier it judged against and the kernel settings it weighed.
    public struct Outcome: Sendable {
        public var report: DiagnosisReport
        public var tier: CapacityTier
        /// Where the tier came from, for the operator who wonders why 500k.
        public var tierSource: String
        public var kernel: KernelDiagnosis
    }

    public func run(in environment: ProbeEnvironment) async -> Outcome {
        let started = ContinuousClock.now
        let chosen = only.isEmpty ? Self.components : only
        let deployment = inventory
        let interval = interval
        var tier = self.tier ?? CapacityTier(named: "100k")!
        var tierSource = self.tier == nil ? "the default: no server reported MAX_CONNECTIONS" : "chosen with --tier"
        var kernel = KernelDiagnosis(root: root, tier: tier)
        let findings = await withTaskGroup(of: [Finding].self) { group in
            // These need neither the tier nor the live limits: they start at once.
            if chosen.contains("server") {
                for entry in deployment.servers where onlyServers.isEmpty || onlyServers.contains(entry.name) {
                    group.addTask { await ServerDiagnosis(entry: entry, interval: interval).run(in: environment) }
                }
            }
            if chosen.contains("cert") {
                if !deployment.certificatePaths.isEmpty {
                    let diagnosis = CertificateDiagnosis(paths: deployment.certificatePaths)
                    group.addTask { diagnosis.run() }
                } else if !only.isEmpty {
                    group.addTask { [Self.unconfigured("cert", "certs")] }
                }
            }
            let limits = await LiveLimits.read(deployment, environment: environment)
            if self.tier == nil, !limits.serverConnections.isEmpty {
                let total = limits.serverConnections.reduce(0, +)
                tier = CapacityTier.fitting(total)
                let terms = limits.serverConnections.map(String.init).joined(separator: " + ")
                tierSource = "the servers' MAX_CONNECTIONS: \(terms)" + (limits.serverConnections.count > 1 ? " = \(total)" : "")
            }
            for job in dependentJobs(chosen, tier: tier, limits: limits, timeout: environment.timeout) {
                group.addTask { await job(environment) }
            }
            var needs = chosen.contains("kernel") ? limits.services : [:]
            if let most = limits.serverConnections.max() { needs["server"] = most }
            kernel = KernelDiagnosis(root: root, tier: tier, needs: needs)
            kernel.serverPorts = Self.localServerPorts(deployment)
            if chosen.contains("kernel") {
                let kernel = kernel
                group.addTask { kernel.run() }
            }
            var all: [Finding] = []
            for await part in group { all += part }
            return all
        }
        return Outcome(report: DiagnosisReport(findings: findings, elapsed: ContinuousClock.now - started), tier: tier, tierSource: tierSource, kernel: kernel)
    }

    private typealias Job = @Sendable (ProbeEnvironment) async -> [Finding]

    /// The service checks judged against the tier; a service that did not answer the live
    /// limits is reported from that answer.
    private func dependentJobs(_ chosen: [String], tier: CapacityTier, limits: LiveLimits, timeout: Duration) -> [Job] {
        let deployment = inventory
        var jobs: [Job] = []
        if chosen.contains("redis") {
            if let address = try? deployment.redisAddress() {
                var diagnosis = RedisDiagnosis(address: address, tier: tier)
                diagnosis.unanswered = limits.unanswered["redis"]
                jobs.append { [diagnosis] in await diagnosis.run(in: $0) }
            } else if !only.isEmpty { jobs.append { _ in [Self.unconfigured("redis", "redis.addr")] } }
        }
        if chosen.contains("nats") {
            if let monitor = deployment.natsMonitorURL {
                var diagnosis = NATSDiagnosis(monitorURL: monitor, tier: tier)
                if roundTrip { diagnosis.rttURL = deployment.natsURL }
                diagnosis.unanswered = limits.unanswered["nats"]
                jobs.append { [diagnosis] in await diagnosis.run(in: $0) }
            } else if !only.isEmpty { jobs.append { _ in [Self.unconfigured("nats", "nats.monitor_url")] } }
        }
        if chosen.contains("haproxy") {
            let runtime = deployment.haproxyRuntimeAPI.flatMap { try? HAProxyRuntimeAPI(parsing: $0, timeout: timeout) }
            if runtime != nil || deployment.haproxyStatsURL != nil || deployment.haproxyConfig != nil {
                var diagnosis = HAProxyDiagnosis(
                    runtime: runtime, statsURL: deployment.haproxyStatsURL, backend: deployment.haproxyBackend,
                    configPath: deployment.haproxyConfig, tier: tier)
                diagnosis.unanswered = limits.unanswered["haproxy"]
                jobs.append { [diagnosis] in await diagnosis.run(in: $0) }
            } else if !only.isEmpty { jobs.append { _ in [Self.unconfigured("haproxy", "haproxy.runtime_api / stats_url")] } }
        }
        if chosen.contains("postgres") {
            if let url = deployment.postgresURL {
                let migrations = deployment.migrationsDirectory
                jobs.append { await PostgresDiagnosis(url: url, migrationsDirectory: migrations).run(in: $0) }
            } else if !only.isEmpty { jobs.append { _ in [Self.unconfigured("postgres", "postgres.url")] } }
        }
        return jobs
    }

    /// The ports of the inventory's servers whose URL is on this host.
    static func localServerPorts(_ inventory: Inventory) -> Set<Int> {
        let local = ["127.0.0.1", "localhost", "::1", "[::1]", ProcessInfo.processInfo.hostName.lowercased()]
        return Set(inventory.servers.compactMap { entry in
            guard let components = URLComponents(string: entry.url), let host = components.host?.lowercased(), local.contains(host) else { return nil }
            return components.port ?? (components.scheme == "https" ? 443 : 80)
        })
    }

    static func unconfigured(_ component: String, _ key: String) -> Finding {
        Finding(component, "configured", .unknown, "no \(component) in the inventory", observed: "\(key) is not set")
    }
}

/// The limits the running fleet reports: the servers' MAX_CONNECTIONS (from /health) and the
/// services' own (Redis maxclients and tcp-backlog, NATS max_connections, HAProxy maxconn),
/// read concurrently. Best effort: what cannot be read is judged by the tier, and a service that
/// could not be reached at all is named in `unanswered`.
struct LiveLimits: Sendable {
    var serverConnections: [Int] = []
    var services: [String: Int] = [:]
    /// Component → why it did not answer.
    var unanswered: [String: String] = [:]

    private enum Part: Sendable {
        case server(Int?)
        case service([String: Int])
        case unanswered(String, String)
    }

    static func read(_ deployment: Inventory, environment: ProbeEnvironment) async -> LiveLimits {
        await withTaskGroup(of: Part.self) { group in
            for entry in deployment.servers {
                let base = entry.url.hasSuffix("/") ? String(entry.url.dropLast()) : entry.url
                group.addTask {
                    let body = try? await environment.http.get(base + "/health", timeout: environment.timeout).body
                    return .server(body.flatMap { try? JSONValue.parse($0) }?["max_connections"]?.intValue)
                }
            }
            if let address = try? deployment.redisAddress() {
                group.addTask { await redis(address, environment) }
            }
            if let monitor = deployment.natsMonitorURL {
                group.addTask { await nats(monitor, environment) }
            }
            if let text = deployment.haproxyRuntimeAPI, let runtime = try? HAProxyRuntimeAPI(parsing: text, timeout: environment.timeout) {
                group.addTask { await haproxy(runtime) }
            }
            var limits = LiveLimits()
            for await part in group {
                switch part {
                case .server(let value): if let value { limits.serverConnections.append(value) }
                case .service(let values): limits.services.merge(values) { $1 }
                case .unanswered(let component, let why): limits.unanswered[component] = why
                }
            }
            return limits
        }
    }

    private static func redis(_ address: RedisAddress, _ environment: ProbeEnvironment) async -> Part {
        let connection: RedisConnection
        do {
            connection = try await RedisConnection.connect(to: address, timeout: environment.timeout, pool: environment.pool, onCancel: .abandon)
        } catch {
            return .unanswered("redis", "\(error)")
        }
        defer { connection.close() }
        var values: [String: Int] = [:]
        for (name, key) in [("maxclients", "redis"), ("tcp-backlog", "redis-tcp-backlog")] {
            do {
                if case .array(let pair) = try await connection.send(["CONFIG", "GET", name]), pair.count == 2, let value = pair[1].string.flatMap({ Int($0) }) {
                    values[key] = value
                }
            } catch let error as OpsError where error.code == .timedOut {
                return .unanswered("redis", "\(error)")
            } catch {
                // CONFIG may be renamed or forbidden: the tier's value stands in.
            }
        }
        return .service(values)
    }

    private static func nats(_ monitor: String, _ environment: ProbeEnvironment) async -> Part {
        let url = monitor.hasSuffix("/") ? monitor + "varz" : monitor + "/varz"
        do {
            let response = try await environment.http.get(url, timeout: environment.timeout)
            let value = (try? JSONValue.parse(response.body))?["max_connections"]?.intValue
            return .service(value.map { ["nats": $0] } ?? [:])
        } catch {
            return .unanswered("nats", "\(error)")
        }
    }

    private static func haproxy(_ runtime: HAProxyRuntimeAPI) async -> Part {
        do {
            let info = try await runtime.execute("show info")
            let line = info.split(separator: "\n").first { $0.hasPrefix("Maxconn:") }
            let value = line.flatMap { Int($0.dropFirst(8).trimmingCharacters(in: .whitespaces)) }
            return .service(value.map { ["haproxy": $0] } ?? [:])
        } catch let error as OpsError where error.code == .serverError {
            // Answered, but refused the command: the diagnosis says why.
            return .service([:])
        } catch {
            return .unanswered("haproxy", "\(error)")
        }
    }
}
