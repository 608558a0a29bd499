import Foundation

/// `diag haproxy`: per server of the backend (status, sessions against the limit, queue, errors,
/// checks), global maxconn from `show info`, the timeouts from the configuration file, and
/// `haproxy -c -f` on it when the inventory names it.
public struct HAProxyDiagnosis: Sendable {
    public var runtime: HAProxyRuntimeAPI?
    public var statsURL: String?
    public var backend: String
    public var configPath: String?
    public var tier: CapacityTier
    /// The servers' heartbeat interval plus grace: an idle chat must outlive it through HAProxy.
    public var heartbeat: Duration = .seconds(40)
    /// Why the runtime API did not answer earlier in the same run: reported without waiting again.
    public var unanswered: String?

    public init(runtime: HAProxyRuntimeAPI?, statsURL: String?, backend: String, configPath: String?, tier: CapacityTier) {
        self.runtime = runtime
        self.statsURL = statsURL
        self.backend = backend
        self.configPath = configPath
        self.tier = tier
    }

    static func unreachable(_ reachedBy: String, observed: String) -> Finding {
        Finding(
            "haproxy", "reachable", .critical, "HAProxy does not answer at \(reachedBy)", observed: observed, source: GuideSection.operations,
            fix: "systemctl status haproxy (or docker compose ps haproxy); haproxy.runtime_api needs 'stats socket ... level admin'")
    }

    public func run(in environment: ProbeEnvironment) async -> [Finding] {
        var findings: [Finding] = []
        var stats: HAProxyStats?
        var info: [String: String] = [:]
        var reachedBy = ""
        if let runtime, let unanswered {
            findings.append(Self.unreachable("runtime API \(runtime.address)", observed: unanswered))
        } else {
            do {
                if let source = HAProxyStatsSource(runtime: runtime, statsURL: statsURL) {
                    reachedBy = source.description
                    stats = try await source.read(in: environment)
                    if case .runtime(let runtime) = source {
                        for line in try await runtime.execute("show info").split(separator: "\n") {
                            let parts = line.split(separator: ":", maxSplits: 1)
                            if parts.count == 2 { info[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
                        }
                    }
                }
            } catch {
                findings.append(Self.unreachable(reachedBy, observed: "\(error)"))
            }
        }
        if let stats { findings += evaluate(stats: stats, info: info) }
        if let configPath { findings += await checkConfiguration(configPath) }
        if stats == nil && configPath == nil && findings.isEmpty {
            findings.append(Finding("haproxy", "configured", .unknown, "no HAProxy to look at", observed: "haproxy.runtime_api, stats_url and config are not set"))
        }
        return findings
    }

    public func evaluate(stats: HAProxyStats, info: [String: String]) -> [Finding] {
        var findings: [Finding] = []
        let servers = stats.servers(ofBackend: backend)
        guard stats.backendRow(backend) != nil else {
            return [Finding("haproxy", "backend", .critical, "HAProxy has no backend '\(backend)'", observed: "backends: \(stats.backendNames.joined(separator: ", "))",
                fix: "haproxy.backend in the inventory must name the backend of the whisper-servers")]
        }
        let up = servers.filter { HAProxyServerState(haproxyStatus: $0.status) == .up }
        for server in servers {
            let state = HAProxyServerState(haproxyStatus: server.status)
            let sessions = server.currentSessions ?? 0
            let limit = Int(server.fields["slim"] ?? "") ?? 0
            var facts = ["\(server.status)", "\(sessions) sessions" + (limit > 0 ? " of \(limit)" : "")]
            if let queue = Int(server.fields["qcur"] ?? ""), queue > 0 { facts.append("queue \(queue)") }
            let connectErrors = Int(server.fields["econ"] ?? "") ?? 0
            let responseErrors = Int(server.fields["eresp"] ?? "") ?? 0
            if connectErrors + responseErrors > 0 { facts.append("\(connectErrors) connection and \(responseErrors) response errors") }
            if let check = server.check { facts.append("check \(check.status)\(server.fields["check_duration"].map { " in \($0) ms" } ?? "")") }
            if let last = Int(server.fields["lastchg"] ?? "") { facts.append("last change \(DisplayFormat.age(Double(last))) ago") }
            if let down = Int(server.fields["downtime"] ?? ""), down > 0 { facts.append("down \(DisplayFormat.age(Double(down))) in all") }
            let severity: Finding.Severity
            var summary = "\(backend)/\(server.service)"
            var fix: String?
            switch state {
            case .up, .goingDown:
                severity = limit > 0 && Double(sessions) >= 0.9 * Double(limit) ? .warning : .ok
                if severity == .warning {
                    summary += " near its maxconn"
                    fix = "raise the server line's maxconn, or add an instance (whisperctl capacity)"
                }
            case .drain, .maint:
                severity = up.isEmpty ? .critical : .warning
                summary += " is \(state == .drain ? "draining" : "in maintenance") (set by an operator)"
                fix = "when it should serve again: echo 'set server \(backend)/\(server.service) state ready' | socat stdio \(runtime?.address.description ?? "/run/haproxy/admin.sock")"
            default:
                severity = up.isEmpty ? .critical : .warning
                summary += " is \(server.status)"
                fix = "look at the server itself: whisperctl diag server; its /ready answers the health check"
            }
            findings.append(Finding("haproxy", "server", severity, summary, observed: facts.joined(separator: ", "), source: severity == .ok ? nil : GuideSection.operations, fix: fix))
        }
        if up.isEmpty {
            findings.append(Finding("haproxy", "backend", .critical, "no server of \(backend) is UP: every user is refused", observed: "\(servers.count) servers, none UP",
                fix: "whisperctl diag server; whisperctl status"))
        }
        if let maxconn = Int(info["Maxconn"] ?? "") {
            let current = Int(info["CurrConns"] ?? "") ?? 0
            let low = maxconn < tier.haproxyMaxconn
            findings.append(Finding(
                "haproxy", "maxconn", Double(current) >= 0.9 * Double(maxconn) ? .critical : (low ? .warning : .ok),
                low ? "global maxconn below the tier's connections" : "global maxconn",
                observed: "maxconn \(maxconn), \(current) connections now", recommended: "maxconn \(tier.haproxyMaxconn) for \(tier.connections) connections",
                source: GuideSection.haproxyConfig, fix: low ? "haproxy.cfg global: maxconn \(tier.haproxyMaxconn) (and LimitNOFILE for haproxy, whisperctl diag kernel)" : nil))
        }
        return findings
    }

    /// The timeouts that matter for WebSockets, read from the file, and HAProxy's own verdict on it.
    func checkConfiguration(_ path: String) async -> [Finding] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return [Finding("haproxy", "config", .unknown, "cannot read the HAProxy configuration", observed: path)]
        }
        var findings = timeouts(in: text, path: path)
        if let haproxy = Self.executable("haproxy") {
            do {
                let result = try await Subprocess.output(haproxy, ["-c", "-q", "-f", path])
                let ok = result.termination.succeeded
                findings.append(Finding(
                    "haproxy", "config-check", ok ? .ok : .critical, ok ? "haproxy -c accepts \(path)" : "haproxy -c rejects \(path)",
                    observed: ok ? "configuration valid" : (result.errors + result.output).split(separator: "\n").prefix(3).joined(separator: " | "),
                    fix: ok ? nil : "haproxy -c -f \(path) shows every error; a reload with this file would fail"))
            } catch {
                findings.append(Finding("haproxy", "config-check", .unknown, "haproxy -c could not run", observed: "\(error)"))
            }
        }
        return findings
    }

    public func timeouts(in text: String, path: String) -> [Finding] {
        var values: [String: (Duration, Int)] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = raw.split(separator: "#", maxSplits: 1).first.map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }) } ?? []
            guard words.count >= 3, words[0] == "timeout", let value = Self.haproxyDuration(String(words[2])) else { continue }
            values[String(words[1])] = (value, index + 1)
        }
        var findings: [Finding] = []
        let tunnel = values["tunnel"] ?? values["server"] ?? values["client"]
        if let (value, line) = tunnel, value < heartbeat {
            findings.append(Finding(
                "haproxy", "timeout-tunnel", .critical, "HAProxy cuts idle chats: its tunnel timeout is shorter than the heartbeat",
                observed: "\(path):\(line): timeout \(values["tunnel"] != nil ? "tunnel" : "server/client") \(value.humanReadable)",
                recommended: "timeout tunnel 3600s", source: GuideSection.haproxyConfig, fix: "\(path): timeout tunnel 3600s"))
        } else if tunnel == nil {
            findings.append(Finding("haproxy", "timeout-tunnel", .warning, "no timeout tunnel: WebSockets get timeout client/server, or none",
                observed: "\(path): no 'timeout tunnel'", recommended: "timeout tunnel 3600s", source: GuideSection.haproxyConfig, fix: "defaults: timeout tunnel 3600s"))
        }
        for name in ["client", "server"] {
            if let (value, line) = values[name], value < .seconds(3600), values["tunnel"] == nil {
                findings.append(Finding("haproxy", "timeout-\(name)", .warning, "timeout \(name) shorter than the recommendation",
                    observed: "\(path):\(line): timeout \(name) \(value.humanReadable)", recommended: "3600s", source: GuideSection.haproxyConfig,
                    fix: "\(path): timeout \(name) 3600s"))
            }
        }
        return findings
    }

    /// A program on PATH or in the sbin directories (haproxy lives in /usr/sbin).
    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin", "/sbin"]
        return directories.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    /// HAProxy's time format: a number of milliseconds, or with a unit (us, ms, s, m, h, d).
    static func haproxyDuration(_ text: String) -> Duration? {
        let digits = text.prefix { $0.isNumber }
        guard let number = Int64(digits) else { return nil }
        switch text.dropFirst(digits.count) {
        case "", "ms": return .milliseconds(number)
        case "us": return .microseconds(number)
        case "s": return .seconds(number)
        case "m": return .seconds(number * 60)
        case "h": return .seconds(number * 3600)
        case "d": return .seconds(number * 86400)
        default: return nil
        }
    }
}
