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

    static let components = DeploymentDiagnosis.components

    @OptionGroup var inventory: InventoryOptions

    @Argument(
        help: ArgumentHelp("Components to look at (redis, nats, haproxy, postgres, server, kernel, cert) or servers by name; all when none.", valueName: "component"),
        completion: .custom { words, _, _ in DeploymentDiagnosis.components + Completions.serverNames(words) })
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
        if let tier, CapacityTier(named: tier) == nil { throw ValidationError("--tier is 10k, 100k, 500k or 1m, not '\(tier)'") }
        if apply && writeSysctl == nil { throw ValidationError("--apply needs --write-sysctl FILE") }
    }

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        // A server's name means that server (`diag ws1`, as `status ws1`).
        let serverNames = deployment.servers.map(\.name)
        for name in only where !Self.components.contains(name) && !serverNames.contains(name) {
            let known = Self.components + serverNames
            let hint = closestMatch(to: name, in: known).map { " (did you mean '\($0)'?)" } ?? ""
            throw ValidationError("'\(name)' is not a component or a server\(hint): \(known.joined(separator: ", "))")
        }
        let servers = only.filter(serverNames.contains)
        var components = only.filter { !serverNames.contains($0) }
        if !servers.isEmpty { components.append("server") }
        var diagnosis = DeploymentDiagnosis(inventory: deployment, only: components, tier: tier.flatMap(CapacityTier.init(named:)))
        diagnosis.onlyServers = servers
        diagnosis.interval = interval
        diagnosis.root = root
        diagnosis.roundTrip = rtt
        let outcome = await diagnosis.run(in: ProbeEnvironment(timeout: timeout, pool: pool))
        let report = outcome.report
        if json {
            var json = report.json
            if case .object(let pairs) = json {
                json = .object(pairs + [("tier", .string(outcome.tier.name)), ("tier_source", .string(outcome.tierSource))])
            }
            print(SecretRegistry.shared.scrub(json.serialized()))
        } else {
            let color = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            print(SecretRegistry.shared.scrub(DiagRendering.text(report, color: color, judged: "for the \(outcome.tier.name) tier (\(outcome.tierSource))")))
        }
        if let writeSysctl { try await writeSysctlFile(outcome.kernel, to: writeSysctl, deployment: deployment) }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    func writeSysctlFile(_ kernel: KernelDiagnosis, to path: String, deployment: Inventory) async throws {
        let changes = kernel.changes
        guard !changes.isEmpty else {
            printError("nothing to write: every kernel setting already meets the \(kernel.tier.name) tier (\(path) not written)")
            return
        }
        let runner = Mutation.runner(deployment, wait: nil, yes: yes, quiet: false)
        try await Mutation.run(runner, WriteSysctlFile(kernel: kernel, path: path), command: "diag")
        printError("wrote \(path): \(changes.count) settings below the \(kernel.tier.name) tier, each raised to what it needs")
        guard apply else { return }
        try await Mutation.run(runner, LoadSysctlFile(path: path), command: "diag")
    }
}

/// Findings grouped by severity, colour on a terminal only.
enum DiagRendering {
    /// - Parameter judged: what the findings were judged against, for the summary line.
    static func text(_ report: DiagnosisReport, color: Bool, judged: String) -> String {
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
            + String(format: ") in %.2f s, judged ", report.elapsed.seconds) + judged)
        return lines.joined(separator: "\n")
    }
}
