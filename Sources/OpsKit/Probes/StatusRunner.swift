import Foundation

/// Runs every probe the inventory calls for, all at once, each bounded by the timeout.
public struct StatusRunner: Sendable {
    public var inventory: Inventory
    public var environment: ProbeEnvironment
    /// Probe only these components (by name, e.g. "ws1", "redis", or kind, e.g. "server");
    /// empty: all of them.
    public var only: [String]

    public init(inventory: Inventory, environment: ProbeEnvironment, only: [String] = []) {
        self.inventory = inventory
        self.environment = environment
        self.only = only
    }

    /// The components a status run can probe, for `status NAME...` and shell completion.
    public var componentNames: [String] { plan(filtered: false).map(\.name) }

    /// Names in `only` that match no component or kind.
    public var unknownNames: [String] {
        let planned = plan(filtered: false)
        return only.filter { name in !planned.contains { $0.name == name || $0.kind.rawValue == name } }
    }

    /// One probe, ready to run, with what to report if it overruns.
    struct PlannedProbe: Sendable {
        var name: String
        var kind: ComponentKind
        var endpoint: String?
        var run: @Sendable (ProbeEnvironment) async -> ComponentReport
    }

    func plan(filtered: Bool = true) -> [PlannedProbe] {
        let all = allProbes()
        guard filtered, !only.isEmpty else { return all }
        return all.filter { probe in only.contains { $0 == probe.name || $0 == probe.kind.rawValue } }
    }

    private func allProbes() -> [PlannedProbe] {
        var probes: [PlannedProbe] = []
        for entry in inventory.servers {
            let probe = ServerProbe(entry: entry, fleet: inventory.servers.map(\.name))
            probes.append(PlannedProbe(name: entry.name, kind: .server, endpoint: entry.url, run: probe.run))
        }
        if let stats = inventory.haproxyStatsURL {
            let probe = HAProxyProbe(statsURL: stats, backend: inventory.haproxyBackend, servers: inventory.servers)
            probes.append(PlannedProbe(name: "haproxy", kind: .haproxy, endpoint: stats, run: probe.run))
        }
        if let addr = inventory.redisAddr {
            do {
                let probe = RedisProbe(address: try inventory.redisAddress()!)
                probes.append(PlannedProbe(name: "redis", kind: .redis, endpoint: addr, run: probe.run))
            } catch {
                let report = ComponentReport.failed(name: "redis", kind: .redis, endpoint: addr, error: error)
                probes.append(PlannedProbe(name: "redis", kind: .redis, endpoint: addr, run: { _ in report }))
            }
        }
        if let monitor = inventory.natsMonitorURL {
            let probe = NATSProbe(monitorURL: monitor)
            probes.append(PlannedProbe(name: "nats", kind: .nats, endpoint: monitor, run: probe.run))
        } else if let url = inventory.natsURL {
            // No monitoring port named: a PING over the client protocol still says it answers.
            let probe = NATSClientProbe(url: url)
            probes.append(PlannedProbe(name: "nats", kind: .nats, endpoint: Redactor.redactURL(url), run: probe.run))
        }
        if let url = inventory.postgresURL {
            let probe = PostgresProbe(url: url)
            let endpoint = (try? PostgresConnectionInfo(parsing: url))?.endpoint
            probes.append(PlannedProbe(name: "postgres", kind: .postgres, endpoint: endpoint, run: probe.run))
        }
        if let url = inventory.postgresURL, FileManager.default.fileExists(atPath: inventory.migrationsDirectory) {
            let probe = MigrationsProbe(url: url, directory: inventory.migrationsDirectory)
            let endpoint = (try? PostgresConnectionInfo(parsing: url))?.endpoint
            probes.append(PlannedProbe(name: "migrations", kind: .migrations, endpoint: endpoint, run: probe.run))
        }
        if inventory.backupsConfigured {
            let directory = inventory.backupDirectory
            do {
                let probe = BackupProbe(
                    directory: directory, warnAge: try inventory.duration(.backupWarnAge, default: Inventory.defaultWarnAge),
                    criticalAge: try inventory.duration(.backupCriticalAge, default: Inventory.defaultCriticalAge))
                probes.append(PlannedProbe(name: "backup", kind: .backup, endpoint: directory, run: probe.run))
            } catch {
                let report = ComponentReport.failed(name: "backup", kind: .backup, endpoint: directory, error: error)
                probes.append(PlannedProbe(name: "backup", kind: .backup, endpoint: directory, run: { _ in report }))
            }
        }
        for path in inventory.certificatePaths {
            let probe = CertificateProbe(path: path)
            probes.append(PlannedProbe(name: probe.name, kind: .cert, endpoint: path, run: probe.run))
        }
        return probes
    }

    /// The components the inventory leaves out, by the names `status` uses.
    public var notConfigured: [String] {
        var names: [String] = []
        if inventory.servers.isEmpty { names.append("servers") }
        if inventory.haproxyStatsURL == nil { names.append("haproxy") }
        if inventory.redisAddr == nil { names.append("redis") }
        if inventory.natsURL == nil && inventory.natsMonitorURL == nil { names.append("nats") }
        if inventory.postgresURL == nil { names.append("postgres") }
        return names
    }

    /// Probes everything concurrently; returns in about one timeout however many endpoints hang.
    public func run() async -> StatusReport {
        let environment = self.environment
        // A little past the clients' own timeouts, so their more precise errors usually win.
        let limit = environment.timeout + .milliseconds(100)
        let probes = plan()
        let reports = await withTaskGroup(of: (Int, ComponentReport).self) { group in
            for (index, probe) in probes.enumerated() {
                group.addTask {
                    let report = await environment.bounded(by: limit) {
                        await probe.run(environment)
                    } onTimeout: {
                        ComponentReport(
                            name: probe.name, kind: probe.kind, status: .critical,
                            detail: OpsError.timedOut(after: environment.timeout, endpoint: probe.endpoint).description,
                            endpoint: probe.endpoint)
                    }
                    return (index, report)
                }
            }
            var collected = [ComponentReport?](repeating: nil, count: probes.count)
            for await (index, report) in group { collected[index] = report }
            return collected.compactMap { $0 }
        }
        var report = StatusReport(deployment: inventory.deployment, checkedAt: environment.now(), components: reports)
        report.notConfigured = notConfigured
        return report
    }
}
