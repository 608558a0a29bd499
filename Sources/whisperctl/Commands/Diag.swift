import ArgumentParser
import Foundation
import NIOPosix
import OpsKit

struct Diag: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Look at each component, judge it against the operations guide, and say how to fix it.",
        discussion: """
            Components: redis, nats, haproxy, postgres, server, kernel, cert; all of them, concurrently, when none \
            is named. Every finding has a severity, what was observed, the recommended value with the guide's \
            section it comes from, and the command or configuration line that fixes it; most severe first.
            Exit status: 0 ok, 1 warning, 2 critical, 3 unknown (as status).

            Examples:
              whisperctl diag
              whisperctl diag redis postgres --json
              whisperctl diag kernel --tier 1m --write-sysctl /etc/sysctl.d/99-whisper.conf
            """
    )

    static let components = ["redis", "nats", "haproxy", "postgres", "server", "kernel", "cert"]

    @OptionGroup var inventory: InventoryOptions

    @Argument(help: ArgumentHelp("Components to look at (redis, nats, haproxy, postgres, server, kernel, cert); all when none.", valueName: "component"))
    var only: [String] = []

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: ArgumentHelp("Time limit for each request.", valueName: "duration"))
    var timeout: Duration = .seconds(2)

    @Option(help: ArgumentHelp("Between the two /metrics samples of each server.", valueName: "duration"))
    var interval: Duration = .seconds(2)

    @Option(help: ArgumentHelp("The tier to judge against: 10k, 100k, 500k or 1m (default: from the servers' MAX_CONNECTIONS, else 100k).", valueName: "tier"))
    var tier: String?

    @Option(help: ArgumentHelp("Read /proc and /sys below this directory instead of /.", valueName: "dir"))
    var root = "/"

    @Option(name: .customLong("write-sysctl"), help: ArgumentHelp("Write a sysctl.d file with the tier's kernel values; change nothing else.", valueName: "file"))
    var writeSysctl: String?

    @Flag(help: "nats: also a publish/subscribe round trip through the server (nats.url).")
    var rtt = false

    @Flag(help: "With --write-sysctl: load it with sysctl -p after confirmation.")
    var apply = false

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    func validate() throws {
        for name in only where !Self.components.contains(name) {
            throw ValidationError("'\(name)' is not a component: \(Self.components.joined(separator: ", "))")
        }
        if let tier, CapacityTier(named: tier) == nil { throw ValidationError("--tier is 10k, 100k, 500k or 1m, not '\(tier)'") }
        if apply && writeSysctl == nil { throw ValidationError("--apply needs --write-sysctl FILE") }
    }

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        let environment = ProbeEnvironment(timeout: timeout, pool: pool)
        let started = ContinuousClock.now
        let chosen = only.isEmpty ? Self.components : only
        let serverLimits = await Self.maxConnections(deployment, environment: environment)
        let tier = tier.flatMap(CapacityTier.init(named:)) ?? (serverLimits.isEmpty ? CapacityTier(named: "100k")! : CapacityTier.fitting(serverLimits.reduce(0, +)))

        var jobs: [@Sendable () async -> [Finding]] = []
        if chosen.contains("redis") {
            if let address = try? deployment.redisAddress() {
                jobs.append { await RedisDiagnosis(address: address, tier: tier).run(in: environment) }
            } else if !only.isEmpty { jobs.append { [Self.unconfigured("redis", "redis.addr")] } }
        }
        if chosen.contains("nats") {
            if let monitor = deployment.natsMonitorURL {
                var diagnosis = NATSDiagnosis(monitorURL: monitor, tier: tier)
                if rtt { diagnosis.rttURL = deployment.natsURL }
                jobs.append { [diagnosis] in await diagnosis.run(in: environment) }
            } else if !only.isEmpty { jobs.append { [Self.unconfigured("nats", "nats.monitor_url")] } }
        }
        if chosen.contains("haproxy") {
            let runtime = deployment.haproxyRuntimeAPI.flatMap { try? HAProxyRuntimeAPI(parsing: $0, timeout: timeout) }
            if runtime != nil || deployment.haproxyStatsURL != nil || deployment.haproxyConfig != nil {
                let diagnosis = HAProxyDiagnosis(
                    runtime: runtime, statsURL: deployment.haproxyStatsURL, backend: deployment.haproxyBackend, configPath: deployment.haproxyConfig, tier: tier)
                jobs.append { await diagnosis.run(in: environment) }
            } else if !only.isEmpty { jobs.append { [Self.unconfigured("haproxy", "haproxy.runtime_api / stats_url")] } }
        }
        if chosen.contains("postgres") {
            if let url = deployment.postgresURL {
                let migrations = deployment.migrationsDirectory
                jobs.append { await PostgresDiagnosis(url: url, migrationsDirectory: migrations).run(in: environment) }
            } else if !only.isEmpty { jobs.append { [Self.unconfigured("postgres", "postgres.url")] } }
        }
        if chosen.contains("server") {
            for entry in deployment.servers {
                let interval = interval
                jobs.append { await ServerDiagnosis(entry: entry, interval: interval).run(in: environment) }
            }
        }
        var needs = chosen.contains("kernel") ? await Self.serviceSettings(deployment, environment: environment) : [:]
        if let most = serverLimits.max() { needs["server"] = most }
        let kernel = KernelDiagnosis(root: root, tier: tier, needs: needs)
        if chosen.contains("kernel") {
            jobs.append { kernel.run() }
        }
        if chosen.contains("cert") {
            if !deployment.certificatePaths.isEmpty {
                let diagnosis = CertificateDiagnosis(paths: deployment.certificatePaths)
                jobs.append { diagnosis.run() }
            } else if !only.isEmpty { jobs.append { [Self.unconfigured("cert", "certs")] } }
        }

        let findings = await withTaskGroup(of: [Finding].self) { group in
            for job in jobs { group.addTask { await job() } }
            var all: [Finding] = []
            for await part in group { all += part }
            return all
        }
        pool.shutdownGracefully { _ in }
        let report = DiagnosisReport(findings: findings, elapsed: ContinuousClock.now - started)
        if json {
            print(SecretRegistry.shared.scrub(report.json.serialized()))
        } else {
            print(SecretRegistry.shared.scrub(DiagRendering.text(report, tier: tier, color: isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil)))
        }
        if let writeSysctl { try await writeSysctlFile(kernel, to: writeSysctl, deployment: deployment) }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    /// What the running services are set to, for the kernel's verdicts: Redis maxclients and
    /// tcp-backlog, NATS max_connections, HAProxy maxconn. Best effort: what cannot be read is
    /// judged by the tier.
    static func serviceSettings(_ deployment: Inventory, environment: ProbeEnvironment) async -> [String: Int] {
        var settings: [String: Int] = [:]
        if let address = try? deployment.redisAddress(),
            let connection = try? await RedisConnection.connect(to: address, timeout: environment.timeout, pool: environment.pool) {
            defer { connection.close() }
            for (name, key) in [("maxclients", "redis"), ("tcp-backlog", "redis-tcp-backlog")] {
                if case .array(let pair)? = try? await connection.send(["CONFIG", "GET", name]), pair.count == 2, let value = pair[1].string.flatMap({ Int($0) }) {
                    settings[key] = value
                }
            }
        }
        if let monitor = deployment.natsMonitorURL,
            let response = try? await environment.http.get(monitor.hasSuffix("/") ? monitor + "varz" : monitor + "/varz", timeout: environment.timeout),
            let value = (try? JSONValue.parse(response.body))?["max_connections"]?.intValue {
            settings["nats"] = value
        }
        if let text = deployment.haproxyRuntimeAPI, let runtime = try? HAProxyRuntimeAPI(parsing: text, timeout: environment.timeout),
            let info = try? await runtime.execute("show info"),
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("Maxconn:") }), let value = Int(line.dropFirst(8).trimmingCharacters(in: .whitespaces)) {
            settings["haproxy"] = value
        }
        return settings
    }

    static func unconfigured(_ component: String, _ key: String) -> Finding {
        Finding(component, "configured", .unknown, "no \(component) in the inventory", observed: "\(key) is not set")
    }

    /// The servers' MAX_CONNECTIONS from their /health.
    static func maxConnections(_ deployment: Inventory, environment: ProbeEnvironment) async -> [Int] {
        await withTaskGroup(of: Int?.self) { group in
            for entry in deployment.servers {
                let base = entry.url.hasSuffix("/") ? String(entry.url.dropLast()) : entry.url
                group.addTask {
                    guard let response = try? await environment.http.get(base + "/health", timeout: environment.timeout) else { return nil }
                    return (try? JSONValue.parse(response.body))?["max_connections"]?.intValue
                }
            }
            var values: [Int] = []
            for await value in group { if let value { values.append(value) } }
            return values
        }
    }

    func writeSysctlFile(_ kernel: KernelDiagnosis, to path: String, deployment: Inventory) async throws {
        let runner = Mutation.runner(deployment, wait: nil, yes: yes, quiet: false)
        try await Mutation.run(runner, WriteSysctlFile(kernel: kernel, path: path), command: "diag")
        printError("wrote \(path) (\(kernel.settings.count) settings for the \(kernel.tier.name) tier)")
        guard apply else { return }
        try await Mutation.run(runner, LoadSysctlFile(path: path), command: "diag")
    }
}

/// Findings grouped by severity, colour on a terminal only.
enum DiagRendering {
    static func text(_ report: DiagnosisReport, tier: CapacityTier, color: Bool) -> String {
        func paint(_ text: String, _ severity: Finding.Severity) -> String {
            guard color else { return text }
            let code = ["critical": "31;1", "warning": "33", "unknown": "35", "info": "36", "ok": "32"][severity.rawValue] ?? "0"
            return "\u{1B}[\(code)m\(text)\u{1B}[0m"
        }
        var lines: [String] = []
        for severity in Finding.Severity.allCases {
            let group = report.findings.filter { $0.severity == severity }
            guard !group.isEmpty else { continue }
            lines.append(paint("\(severity.rawValue.uppercased()) (\(group.count))", severity))
            for finding in group {
                lines.append("  [\(finding.component)] \(finding.summary)")
                if severity == .ok {
                    lines[lines.count - 1] += ": \(finding.observed)"
                    continue
                }
                lines.append("      observed: \(finding.observed)")
                if let recommended = finding.recommended { lines.append("      recommended: \(recommended)" + (finding.source.map { " (\($0))" } ?? "")) }
                if let fix = finding.fix { lines.append("      fix: \(fix)") }
            }
            lines.append("")
        }
        let counts = Finding.Severity.allCases.map { severity in (severity, report.findings.filter { $0.severity == severity }.count) }.filter { $0.1 > 0 }
        lines.append("\(report.findings.count) findings (" + counts.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", ")
            + String(format: ") in %.2f s, judged for the %@ tier", report.elapsed.seconds, tier.name))
        return lines.joined(separator: "\n")
    }
}
