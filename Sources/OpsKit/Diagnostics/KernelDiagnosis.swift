import Foundation

/// `diag kernel`: every row of the playbook's kernel table against the tier, the memory formula
/// against MemTotal, and the open-files limit of each running redis-server, nats-server, haproxy
/// and whisper-server against what its settings need. Reads /proc (or `root`, a fixture tree).
public struct KernelDiagnosis: Sendable {
    public var root: String
    public var tier: CapacityTier
    /// What the stack's own settings need, when known (Redis maxclients, NATS max_connections,
    /// HAProxy maxconn, the servers' MAX_CONNECTIONS).
    public var needs: [String: Int]
    /// The ports of the inventory's servers on this host: a whisper-server listening elsewhere
    /// (another deployment, a test) is not judged. nil: every whisper-server is.
    public var serverPorts: Set<Int>?

    public init(root: String = "/", tier: CapacityTier, needs: [String: Int] = [:]) {
        self.root = root
        self.tier = tier
        self.needs = needs
    }

    /// A sysctl: its recommendation for the tier and how a value is judged.
    public struct Setting: Sendable {
        public var key: String
        public var recommended: String
        /// nil: fine; else why not.
        public var judge: @Sendable ([Int]) -> String?
        /// A wrong value hurts at this tier (warning) or is a refinement (info).
        var important: Bool
        /// The value that fixes `current` (only asked when `judge` finds a problem): a limit is
        /// only ever raised, and a part of the value that is already enough is kept as it is.
        var fix: @Sendable ([Int]) -> String

        init(key: String, recommended: String, judge: @escaping @Sendable ([Int]) -> String?, important: Bool, fix: (@Sendable ([Int]) -> String)? = nil) {
            self.key = key
            self.recommended = recommended
            self.judge = judge
            self.important = important
            self.fix = fix ?? { _ in recommended }
        }
    }

    /// A setting whose running value falls short of the tier, and what to set it to.
    public struct Change: Sendable, Equatable {
        public var key: String
        public var current: String
        public var value: String
    }

    public var settings: [Setting] {
        let t = tier
        func atLeast(_ n: Int) -> @Sendable ([Int]) -> String? { { ($0.first ?? 0) >= n ? nil : "below \(n)" } }
        func atMost(_ n: Int) -> @Sendable ([Int]) -> String? { { ($0.first ?? Int.max) <= n ? nil : "above \(n)" } }
        let big = t.connections >= 100_000
        return [
            Setting(key: "fs.file-max", recommended: "\(t.fileMax)", judge: atLeast(t.fileMax), important: true),
            Setting(key: "fs.nr_open", recommended: "\(t.nrOpen)", judge: atLeast(t.nrOpen), important: true),
            Setting(key: "fs.epoll.max_user_watches", recommended: "\(t.epollWatches)", judge: atLeast(t.epollWatches), important: true),
            Setting(key: "net.core.somaxconn", recommended: "\(t.somaxconn)", judge: atLeast(t.somaxconn), important: true),
            Setting(key: "net.core.netdev_max_backlog", recommended: "\(t.netdevBacklog)", judge: atLeast(t.netdevBacklog), important: big),
            Setting(key: "net.ipv4.tcp_rmem", recommended: "4096 8192 16384", judge: { v in
                v.count == 3 && (!big || v[1] <= 16384) ? nil : "default \(v.count == 3 ? v[1] : 0) bytes per connection costs memory at this tier" },
                important: t.connections >= 500_000, fix: Self.smallerDefaultBuffer),
            Setting(key: "net.ipv4.tcp_wmem", recommended: "4096 8192 16384", judge: { v in
                v.count == 3 && (!big || v[1] <= 16384) ? nil : "default \(v.count == 3 ? v[1] : 0) bytes per connection costs memory at this tier" },
                important: t.connections >= 500_000, fix: Self.smallerDefaultBuffer),
            Setting(key: "net.ipv4.tcp_mem", recommended: "\(t.tcpMemMaxPages / 2) \(t.tcpMemMaxPages * 2 / 3) \(t.tcpMemMaxPages)", judge: { v in
                v.count == 3 && v[2] >= t.tcpMemMaxPages ? nil : "max \(v.last ?? 0) pages, under the \(t.tcpMemMaxPages) this tier's buffers need" },
                important: true, fix: { v in
                    let wanted = [t.tcpMemMaxPages / 2, t.tcpMemMaxPages * 2 / 3, t.tcpMemMaxPages]
                    return (0..<3).map { String(v.count == 3 ? max(v[$0], wanted[$0]) : wanted[$0]) }.joined(separator: " ")
                }),
            Setting(key: "net.ipv4.tcp_tw_reuse", recommended: "1", judge: { value in
                switch value.first {
                case 1: nil
                case 2: "TIME_WAIT sockets reused for loopback only: rolling restarts can exhaust ports to Redis and NATS"
                default: "TIME_WAIT sockets are not reused: rolling restarts exhaust ports"
                } }, important: true),
            Setting(key: "net.ipv4.tcp_fin_timeout", recommended: "15", judge: atMost(15), important: false),
            Setting(key: "net.ipv4.tcp_max_orphans", recommended: "\(t.maxOrphans)", judge: atLeast(t.maxOrphans), important: big),
            Setting(key: "net.ipv4.tcp_max_syn_backlog", recommended: "\(t.somaxconn)", judge: atLeast(t.somaxconn), important: big),
            Setting(key: "net.ipv4.tcp_fastopen", recommended: "3", judge: { ($0.first ?? 0) == 3 ? nil : "not on for client and server" }, important: false),
            Setting(key: "net.ipv4.tcp_keepalive_time", recommended: "300", judge: atMost(300), important: false),
            Setting(key: "net.ipv4.tcp_keepalive_intvl", recommended: "30", judge: atMost(30), important: false),
            Setting(key: "net.ipv4.tcp_keepalive_probes", recommended: "5", judge: atMost(5), important: false),
            Setting(key: "net.ipv4.ip_local_port_range", recommended: "1024 65535", judge: { v in
                v.count == 2 && v[1] - v[0] >= 60_000 ? nil : "\(v.count == 2 ? v[1] - v[0] + 1 : 0) ephemeral ports" }, important: false),
        ]
    }

    /// A smaller default per-connection buffer (min, default, max): the minimum and the
    /// maximum are never lowered.
    @Sendable static func smallerDefaultBuffer(_ v: [Int]) -> String {
        guard v.count == 3 else { return "4096 8192 16384" }
        return "\(min(v[0], 4096)) \(min(v[1], 8192)) \(max(v[2], 16384))"
    }

    /// The running value of a setting, split into numbers; nil when it cannot be read.
    func current(_ setting: Setting) -> (text: String, values: [Int])? {
        guard let text = read("proc/sys/" + setting.key.replacingOccurrences(of: ".", with: "/")) else { return nil }
        return (text, text.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int($0) })
    }

    /// The settings that fall short of the tier on this host, each with its fix. A setting
    /// already at or above what the tier needs is not here, so writing these never lowers one.
    public var changes: [Change] {
        settings.compactMap { setting in
            guard let (text, values) = current(setting), setting.judge(values) != nil else { return nil }
            return Change(key: setting.key, current: text, value: setting.fix(values))
        }
    }

    /// Settings that could not be read: a file cannot say what they should be raised to.
    var unreadable: [Setting] { settings.filter { current($0) == nil } }

    func read(_ relative: String) -> String? {
        (try? String(contentsOfFile: (root as NSString).appendingPathComponent(relative), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func run() -> [Finding] {
        var findings: [Finding] = []
        for setting in settings {
            guard let (text, values) = current(setting) else {
                let path = "/proc/sys/" + setting.key.replacingOccurrences(of: ".", with: "/")
                findings.append(Finding("kernel", setting.key, .unknown, "\(setting.key) could not be read", observed: "\(path) missing or unreadable",
                    recommended: setting.recommended, source: GuideSection.kernel))
                continue
            }
            if let problem = setting.judge(values) {
                let value = setting.fix(values)
                findings.append(Finding(
                    "kernel", setting.key, setting.important ? .warning : .info, "\(setting.key): \(problem)", observed: text,
                    recommended: setting.recommended, source: GuideSection.kernel,
                    fix: "/etc/sysctl.d/99-whisper.conf: \(setting.key) = \(value)  (whisperctl diag kernel --write-sysctl FILE)"
                        // A container has its own network namespace: Compose sets net.* there.
                        + (setting.key.hasPrefix("net.") ? "; in Compose: sysctls: {\(setting.key): \"\(value)\"}" : "")))
            } else {
                findings.append(Finding("kernel", setting.key, .ok, setting.key, observed: text))
            }
        }
        // The kernel truncates a listen backlog to somaxconn: Redis' tcp-backlog is silently cut.
        if let backlog = needs["redis-tcp-backlog"], let text = read("proc/sys/net/core/somaxconn"), let somaxconn = Int(text), somaxconn < backlog {
            findings.append(Finding(
                "kernel", "somaxconn-vs-redis", .warning, "net.core.somaxconn (\(somaxconn)) cuts Redis' tcp-backlog (\(backlog))",
                observed: "somaxconn \(somaxconn), Redis tcp-backlog \(backlog)", recommended: "somaxconn at least \(max(backlog, tier.somaxconn))",
                source: GuideSection.redisConfig, fix: "/etc/sysctl.d/99-whisper.conf: net.core.somaxconn = \(max(backlog, tier.somaxconn)); Compose: sysctls: {net.core.somaxconn: \(max(backlog, tier.somaxconn))}"))
        }
        findings += memory()
        findings += runningProcesses()
        if let overcommit = read("proc/sys/vm/overcommit_memory"), overcommit != "1", needs["redis"] != nil || !processes(named: "redis-server").isEmpty {
            findings.append(Finding("kernel", "vm.overcommit_memory", .info, "vm.overcommit_memory is not 1: Redis' background saves may fail",
                observed: overcommit, recommended: "1 (Redis' own advice)", fix: "/etc/sysctl.d/99-whisper.conf: vm.overcommit_memory = 1"))
        }
        if let thp = read("sys/kernel/mm/transparent_hugepage/enabled"), thp.contains("[always]"), !processes(named: "redis-server").isEmpty {
            findings.append(Finding("kernel", "transparent_hugepage", .info, "transparent huge pages on: Redis latency spikes after forks",
                observed: thp, recommended: "madvise or never", fix: "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (and at boot)"))
        }
        return findings
    }

    func memory() -> [Finding] {
        guard let meminfo = read("proc/meminfo"), let line = meminfo.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
            let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else {
            return [Finding("kernel", "memory", .unknown, "MemTotal could not be read", observed: "/proc/meminfo")]
        }
        let total = kib * 1024
        let formula = tier.formulaMemoryBytes
        let severity: Finding.Severity = total < formula ? .critical : (total < tier.minimumRAMBytes ? .warning : .ok)
        return [Finding(
            "kernel", "memory", severity,
            severity == .ok ? "memory holds the \(tier.name) tier" : "this host cannot hold the \(tier.name) tier",
            observed: "MemTotal \(ByteCount.format(total)); the formula (200 MB + 20 KB x \(tier.connections)) needs \(ByteCount.format(formula)), §4.2 asks at least \(ByteCount.format(tier.minimumRAMBytes)), \(ByteCount.format(tier.recommendedRAMBytes)) recommended, \(tier.recommendedCores) cores",
            recommended: ByteCount.format(tier.recommendedRAMBytes), source: GuideSection.memory,
            fix: severity == .ok ? nil : "a larger host, or spread the tier over more instances (whisperctl capacity --connections \(tier.connections))")]
    }

    /// pids of processes whose command name is `name`.
    func processes(named name: String) -> [Int] {
        let proc = (root as NSString).appendingPathComponent("proc")
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: proc)) ?? []
        return entries.compactMap { Int($0) }.filter { pid in read("proc/\(pid)/comm") == String(name.prefix(15)) }.sorted()
    }

    /// Whether a whisper-server process is one of the inventory's: its LISTEN_ADDR port is one of
    /// theirs. When its environment cannot be read, it is given the benefit of the doubt.
    func isInventoryServer(_ pid: Int) -> Bool {
        guard let ports = serverPorts else { return true }
        guard let data = FileManager.default.contents(atPath: (root as NSString).appendingPathComponent("proc/\(pid)/environ")) else { return true }
        let listen = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.first { $0.hasPrefix("LISTEN_ADDR=") }
        guard let listen, let port = Int(listen.split(separator: ":").last ?? "") else { return true }
        return ports.contains(port)
    }

    /// The open-files limit of each running service against what its settings need.
    func runningProcesses() -> [Finding] {
        var findings: [Finding] = []
        let services: [(name: String, key: String, need: Int)] = [
            ("whisper-server", "server", (needs["server"] ?? tier.connections) + 1024),
            ("haproxy", "haproxy", (needs["haproxy"] ?? tier.haproxyMaxconn) * 2 + 1024),
            ("redis-server", "redis", (needs["redis"] ?? tier.redisMaxclients) + 32),
            ("nats-server", "nats", (needs["nats"] ?? tier.natsMaxConnections) + 1024),
        ]
        for service in services {
            for pid in processes(named: service.name) where service.name != "whisper-server" || isInventoryServer(pid) {
                guard let limits = read("proc/\(pid)/limits"),
                    let line = limits.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }),
                    let soft = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first ?? "")
                else {
                    findings.append(Finding("kernel", "\(service.name) open files", .unknown, "\(service.name) (pid \(pid)): its limits could not be read", observed: "/proc/\(pid)/limits"))
                    continue
                }
                let enough = soft >= service.need
                let nofile = max(65_536, service.need)
                findings.append(Finding(
                    "kernel", "\(service.name) open files", enough ? .ok : .warning,
                    enough ? "\(service.name) (pid \(pid)) open-files limit" : "\(service.name) (pid \(pid)) can open \(soft) files; its settings need \(service.need)",
                    observed: "Max open files \(soft) (soft)", recommended: "\(nofile)", source: enough ? nil : GuideSection.limits,
                    fix: enough ? nil : """
                        systemd: systemctl edit \(service.name) → [Service] LimitNOFILE=\(nofile); Compose: ulimits: {nofile: {soft: \(nofile), hard: \(nofile)}}; \
                        also fs.nr_open >= \(nofile)
                        """))
            }
        }
        return findings
    }

    /// The sysctl.d file that brings this host to the tier: only the settings that fall short,
    /// each raised to what the tier needs (never below what the host has).
    var sysctlFile: String {
        var out = "# Whisper: the performance playbook's kernel settings for the \(tier.name) tier (\(tier.connections) connections).\n"
        out += "# Written by whisperctl diag kernel --write-sysctl; load with: sysctl -p FILE\n"
        out += "# Only the settings below what the tier needs; the others already are at or above it.\n"
        for change in changes { out += "# was \(change.current)\n\(change.key) = \(change.value)\n" }
        for setting in unreadable { out += "# \(setting.key) could not be read here (the tier needs \(setting.recommended)): left out\n" }
        return out
    }
}
