import Foundation
import OpsKit
import TestSupport
import Testing

/// The guide's troubleshooting trees as faults injected on real services: `whisperctl diag` must
/// name the component, the cause and the fix.
@Suite struct DiagTests {
    /// The inventory with `body`, every section it does not set switched off.
    func inventory(_ directory: TemporaryDirectory, _ body: String) throws {
        let sections = ["servers: []", "redis: ~", "nats: ~", "postgres: ~", "haproxy: ~"].filter { line in
            !body.contains(String(line.prefix { $0 != ":" }) + ":")
        }
        try directory.write("whisperctl.yml", "deployment: diagtest\n" + sections.joined(separator: "\n") + "\n" + body)
    }

    func findings(_ run: ProgramRun) throws -> [JSONValue] {
        try JSONValue.parse(Array(run.stdout.utf8))["findings"]?.arrayValue ?? []
    }

    func first(_ findings: [JSONValue], _ check: String) -> JSONValue? { findings.first { $0["check"]?.stringValue == check } }

    @Test func redisStoppedIsCriticalNamingTheAddress() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let port = try FreePort.next()
        try inventory(directory, "redis:\n  addr: 127.0.0.1:\(port)\n")
        let run = try await WhisperctlBinary.run(["diag", "redis", "--json"], in: directory)
        #expect(run.status == 2)
        let finding = first(try findings(run), "reachable")
        #expect(finding?["severity"] == .string("critical") && finding?["summary"]?.stringValue?.contains("127.0.0.1:\(port)") == true, "\(run.stdout)")
        #expect(finding?["fix"]?.stringValue?.contains("REDIS_ADDR") == true)
    }

    @Test func redisFullWithNoevictionIsCriticalWithTheFix() async throws {
        try await withService({ try await RedisServer.start(extraArguments: ["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]) }) { redis in
            let connection = try await RedisConnection.connect(to: try RedisAddress(parsing: redis.address))
            // Every command into SLOWLOG, whose values must never show.
            _ = try await connection.send(["CONFIG", "SET", "slowlog-log-slower-than", "0"])
            _ = try await connection.send(["SET", "secret-key", "the-secret-value-42"])
            let value = String(repeating: "x", count: 10_000)
            for index in 0..<400 {
                // Until Redis refuses: OOM command not allowed.
                guard (try? await connection.send(["SET", "filler:\(index)", value])) != nil else { break }
            }
            connection.close()
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try inventory(directory, "redis:\n  addr: \(redis.address)\n")
            let run = try await WhisperctlBinary.run(["diag", "redis", "--json"], in: directory)
            #expect(run.status == 2, "\(run.stdout)")
            let all = try findings(run)
            let policy = first(all, "maxmemory-policy")
            #expect(policy?["severity"] == .string("critical"), "\(run.stdout)")
            #expect(policy?["fix"]?.stringValue?.contains("CONFIG SET maxmemory-policy allkeys-lru") == true)
            #expect(policy?["source"]?.stringValue?.contains("§3.5") == true)
            #expect(first(all, "memory")?["severity"] == .string("critical"))
            #expect(first(all, "latency")?["observed"]?.stringValue?.contains("p99") == true)
            #expect(first(all, "slowlog") != nil && !run.stdout.contains("the-secret-value-42"), "SLOWLOG shows commands, never values")
            #expect(first(all, "sessions")?["observed"]?.stringValue?.contains("SCAN") == true)
            let text = try await WhisperctlBinary.run(["diag", "redis"], in: directory)
            #expect(text.stdout.hasPrefix("CRITICAL"), "most severe first: \(text.stdout)")
        }
    }

    @Test func natsStoppedAndASlowConsumerAreNamed() async throws {
        try await withService({ try await NATSServer.start(configuration: "max_payload: 65536\nmax_pending: 131072\nwrite_deadline: \"100ms\"\n") }) { nats in
            // A subscriber that never reads, and a publisher that floods it.
            let stuck = try TCPTestClient(port: nats.port)
            try stuck.send("CONNECT {\"name\":\"stuck-reader\",\"verbose\":false}\r\nSUB flood 1\r\nPING\r\n")
            let publisher = try TCPTestClient(port: nats.port)
            try publisher.send("CONNECT {\"verbose\":false}\r\n")
            let payload = String(repeating: "y", count: 8000)
            for _ in 0..<3000 { try? publisher.send("PUB flood \(payload.utf8.count)\r\n\(payload)\r\n") }
            try await eventually("a slow consumer") {
                ((try? await HTTPClient().get(nats.monitorURL + "/varz")).flatMap { try? JSONValue.parse($0.body) }?["slow_consumers"]?.intValue ?? 0) > 0
            }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try inventory(directory, "nats:\n  url: \(nats.url)\n  monitor_url: \(nats.monitorURL)\n")
            let run = try await WhisperctlBinary.run(["diag", "nats", "--json"], in: directory)
            #expect(run.status == 1, "\(run.stdout)")
            #expect(first(try findings(run), "slow-consumers")?["severity"] == .string("warning"), "\(run.stdout)")
            let rtt = try await WhisperctlBinary.run(["diag", "nats", "--rtt", "--json"], in: directory)
            #expect(first(try findings(rtt), "rtt")?["observed"]?.stringValue?.contains("20 round trips") == true, "\(rtt.stdout)")
            stuck.close()
            publisher.close()
            await nats.kill()
            let down = try await WhisperctlBinary.run(["diag", "nats", "--json"], in: directory)
            let unreachable = first(try findings(down), "reachable")
            #expect(down.status == 2 && unreachable?["severity"] == .string("critical"), "\(down.stdout)")
        }
    }

    /// Users queue faster than they match: the queue is sampled twice and its growth named.
    @Test func aGrowingMatchQueueIsAWarning() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let address = try RedisAddress(parsing: redis.address)
            let connection = try await RedisConnection.connect(to: address)
            defer { connection.close() }
            _ = try await connection.pipeline((0..<150).map { ["ZADD", RedisProbe.matchQueueKey, "\($0)", "s\($0)"] })
            var diagnosis = RedisDiagnosis(address: address, tier: CapacityTier(named: "10k")!)
            diagnosis.queueInterval = .seconds(2)
            diagnosis.pings = 5
            let grower = Task {
                try await Task.sleep(for: .seconds(1))
                _ = try await connection.pipeline((150..<400).map { ["ZADD", RedisProbe.matchQueueKey, "\($0)", "s\($0)"] })
            }
            let findings = await diagnosis.run(in: ProbeEnvironment())
            try await grower.value
            let queue = findings.first { $0.check == "match-queue" }
            #expect(queue?.severity == .warning && queue?.observed.contains("150, then 400") == true, "\(findings.map(\.observed))")
        }
    }

    @Test func aLockHeldByOneQueryIsNamedWithTheQueryWaitingBehindIt() async throws {
        try await withService({ try await PostgresServer.start() }) { postgres in
            let holder = try await PostgresConnection.connect(url: postgres.url)
            try await holder.execute(script: "CREATE TABLE reports_probe (id int)")
            try await holder.execute(script: "BEGIN")
            try await holder.execute(script: "LOCK TABLE reports_probe IN ACCESS EXCLUSIVE MODE")
            let waiter = try await PostgresConnection.connect(url: postgres.url)
            let waiting = Task { try? await waiter.query("SELECT count(*) FROM reports_probe", timeout: .seconds(30)) }
            // Seen from a third session: the holder's last query must stay the LOCK.
            let observer = try await PostgresConnection.connect(url: postgres.url)
            try await eventually("the query waits for the lock") {
                ((try? await observer.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"))?.rows.first?[0].int ?? 0) > 0
            }
            observer.close()
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try inventory(directory, "postgres:\n  url: \(postgres.url)\n")
            let run = try await WhisperctlBinary.run(["diag", "postgres", "--json"], in: directory)
            let locks = first(try findings(run), "lock-waits")
            #expect(run.status == 1, "\(run.stdout)")
            #expect(locks?["severity"] == .string("warning") && locks?["observed"]?.stringValue?.contains("SELECT count(*) FROM reports_probe") == true, "\(run.stdout)")
            #expect(locks?["observed"]?.stringValue?.contains("LOCK TABLE reports_probe") == true, "the blocker's query is named: \(run.stdout)")
            #expect(locks?["fix"]?.stringValue?.contains("pg_cancel_backend") == true)
            try await holder.execute(script: "ROLLBACK")
            _ = await waiting.value
            holder.close()
            waiter.close()
            await postgres.stop()
            let down = try await WhisperctlBinary.run(["diag", "postgres", "--json"], in: directory)
            let unreachable = first(try findings(down), "reachable")
            #expect(down.status == 2 && unreachable?["severity"] == .string("critical"), "\(down.stdout)")
        }
    }

    @Test func anHAProxyServerDownAndADrainingServerAreNamed() async throws {
        let server = try await WhisperServerProcess.start(environment: ["DRAIN_GRACE": "8s", "DRAIN_TIMEOUT": "10s"])
        let dead = try FreePort.next()
        let haproxy = try await HAProxyServer.start(servers: [("ws1", server.port), ("ws2", dead)])
        defer {
            Task {
                await haproxy.stop()
                await server.stop()
            }
        }
        try await haproxy.waitFor(.up, servers: ["ws1"])
        try await haproxy.waitFor(.down, servers: ["ws2"])
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("haproxy.cfg", "defaults\n  timeout client 30s\n  timeout tunnel 10s\n")
        try inventory(directory, """
            servers:
              - name: ws1
                url: \(server.baseURL)
            haproxy:
              runtime_api: \(haproxy.runtimeSocket)
              backend: \(haproxy.backend)
              config: haproxy.cfg
            """)
        let run = try await WhisperctlBinary.run(["diag", "haproxy", "--json"], in: directory)
        let all = try findings(run)
        #expect(all.contains { $0["summary"]?.stringValue?.contains("ws2 is DOWN") == true && $0["severity"] == .string("warning") }, "\(run.stdout)")
        let tunnel = first(all, "timeout-tunnel")
        #expect(tunnel?["severity"] == .string("critical") && tunnel?["observed"]?.stringValue?.contains("haproxy.cfg:3") == true, "\(run.stdout)")
        #expect(first(all, "config-check") != nil, "haproxy -c ran on the file")
        server.process.signal(SIGTERM)
        try await eventually("the server drains") { (try? await HTTPClient().get(server.baseURL + "/ready", timeout: .seconds(1)))?.status == 503 }
        let draining = try await WhisperctlBinary.run(["diag", "server", "--json", "--interval", "200ms"], in: directory)
        #expect(first(try findings(draining), "draining")?["severity"] == .string("warning"), "\(draining.stdout)")
    }

    @Test func kernelVerdictsOnFixtureTreesForEveryTier() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        func tree(_ name: String, values: [String: String], memTotalKiB: Int) throws -> String {
            for (key, value) in values {
                let path = "\(name)/proc/sys/" + key.replacingOccurrences(of: ".", with: "/")
                try FileManager.default.createDirectory(atPath: directory.file((path as NSString).deletingLastPathComponent), withIntermediateDirectories: true)
                try directory.write(path, value + "\n")
            }
            try directory.write("\(name)/proc/meminfo", "MemTotal:       \(memTotalKiB) kB\nMemFree: 1 kB\n")
            return directory.file(name)
        }
        // The playbook's own 1M values on a 64 GiB host: nothing to say at any tier.
        let tuned = try tree("tuned", values: [
            "fs.file-max": "2097152", "fs.nr_open": "2097152", "fs.epoll.max_user_watches": "2097152", "net.core.somaxconn": "65535",
            "net.core.netdev_max_backlog": "65535", "net.ipv4.tcp_rmem": "4096 8192 16384", "net.ipv4.tcp_wmem": "4096 8192 16384",
            "net.ipv4.tcp_mem": "786432 1048576 1572864", "net.ipv4.tcp_tw_reuse": "1", "net.ipv4.tcp_fin_timeout": "15",
            "net.ipv4.tcp_max_orphans": "262144", "net.ipv4.tcp_max_syn_backlog": "65535", "net.ipv4.tcp_fastopen": "3",
            "net.ipv4.tcp_keepalive_time": "300", "net.ipv4.tcp_keepalive_intvl": "30", "net.ipv4.tcp_keepalive_probes": "5",
            "net.ipv4.ip_local_port_range": "1024\t65535",
        ], memTotalKiB: 64 * 1024 * 1024)
        // Linux defaults on a 4 GiB host, one entry missing.
        let stock = try tree("stock", values: [
            "fs.file-max": "100000", "fs.nr_open": "1048576", "net.core.somaxconn": "128", "net.core.netdev_max_backlog": "1000",
            "net.ipv4.tcp_rmem": "4096 131072 6291456", "net.ipv4.tcp_wmem": "4096 16384 4194304", "net.ipv4.tcp_mem": "45000 60000 90000",
            "net.ipv4.tcp_tw_reuse": "0", "net.ipv4.tcp_fin_timeout": "60", "net.ipv4.tcp_max_orphans": "8192", "net.ipv4.tcp_max_syn_backlog": "128",
            "net.ipv4.tcp_fastopen": "0", "net.ipv4.tcp_keepalive_time": "7200", "net.ipv4.tcp_keepalive_intvl": "75",
            "net.ipv4.tcp_keepalive_probes": "9", "net.ipv4.ip_local_port_range": "32768\t60999",
        ], memTotalKiB: 4 * 1024 * 1024)
        try inventory(directory, "")
        for tier in ["10k", "100k", "500k", "1m"] {
            let good = try await WhisperctlBinary.run(["diag", "kernel", "--root", tuned, "--tier", tier, "--json"], in: directory)
            #expect(good.status == 0, "\(tier): \(good.stdout)")
            let bad = try await WhisperctlBinary.run(["diag", "kernel", "--root", stock, "--tier", tier, "--json"], in: directory)
            let all = try findings(bad)
            #expect(first(all, "fs.epoll.max_user_watches")?["severity"] == .string("unknown"), "missing is unknown, not a failure")
            #expect(first(all, "net.core.somaxconn")?["severity"] == .string("warning"))
            #expect(first(all, "net.ipv4.tcp_tw_reuse")?["fix"]?.stringValue?.contains("net.ipv4.tcp_tw_reuse = 1") == true)
            // 4 GiB: enough for 10K, under §4.2's 8 GiB for 100K, under the formula beyond.
            let memory = ["10k": "ok", "100k": "warning", "500k": "critical", "1m": "critical"][tier]
            #expect(first(all, "memory")?["severity"]?.stringValue == memory, "\(tier): \(bad.stdout)")
            #expect(bad.status == (memory == "critical" ? 2 : 1), "\(tier): \(bad.status)")
        }
        // A host already at the tier: nothing to write.
        let sysctl = directory.file("99-whisper.conf")
        let nothing = try await WhisperctlBinary.run(["diag", "kernel", "--root", tuned, "--tier", "1m", "--write-sysctl", sysctl], in: directory)
        #expect(nothing.status == 0 && nothing.stderr.contains("nothing to write"), "\(nothing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: sysctl))
        // Stock values: only what falls short, raised; a maximum the host has is never lowered.
        let written = try await WhisperctlBinary.run(["diag", "kernel", "--root", stock, "--tier", "1m", "--write-sysctl", sysctl, "--yes"], in: directory)
        #expect(written.status == 2, "the memory finding is critical: \(written.stderr)")
        let text = try String(contentsOfFile: sysctl, encoding: .utf8)
        #expect(text.contains("net.core.somaxconn = 65535") && text.contains("fs.file-max = 2097152"), "\(text)")
        #expect(text.contains("net.ipv4.tcp_rmem = 4096 8192 6291456"), "a smaller default, the maximum kept: \(text)")
        #expect(!text.contains("net.ipv4.tcp_wmem ="), "its 16384 default is already small enough: \(text)")
        #expect(text.contains("fs.nr_open = 1065536"), "1048576 is below the 1m tier's: raised")
        #expect(text.contains("# fs.epoll.max_user_watches could not be read"), "\(text)")
        // The issue's host: limits far above the tier's, one setting short.
        let generous = try tree("generous", values: [
            "fs.file-max": "2466116", "fs.nr_open": "2097152", "fs.epoll.max_user_watches": "5491378", "net.core.somaxconn": "128",
            "net.core.netdev_max_backlog": "65535", "net.ipv4.tcp_rmem": "4096 131072 33554432", "net.ipv4.tcp_wmem": "4096 16384 4194304",
            "net.ipv4.tcp_mem": "191928 255904 575784", "net.ipv4.tcp_tw_reuse": "1", "net.ipv4.tcp_fin_timeout": "15",
            "net.ipv4.tcp_max_orphans": "262144", "net.ipv4.tcp_max_syn_backlog": "65535", "net.ipv4.tcp_fastopen": "3",
            "net.ipv4.tcp_keepalive_time": "300", "net.ipv4.tcp_keepalive_intvl": "30", "net.ipv4.tcp_keepalive_probes": "5",
            "net.ipv4.ip_local_port_range": "1024\t65535",
        ], memTotalKiB: 24 * 1024 * 1024)
        let raised = directory.file("raised.conf")
        let few = try await WhisperctlBinary.run(["diag", "kernel", "--root", generous, "--tier", "10k", "--write-sysctl", raised, "--yes"], in: directory)
        #expect(few.status == 1, "\(few.stdout)\(few.stderr)")
        let settings = try String(contentsOfFile: raised, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(settings == ["net.core.somaxconn = 4096"], "only the setting below the tier: \(settings)")
    }

    @Test func aRunningRedisWithTooFewOpenFilesIsNamedWithItsFix() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            let pid = redis.process.pid
            _ = try await Offload.run { try Command.run("/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile=256:256"]) }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try inventory(directory, "")
            let run = try await WhisperctlBinary.run(["diag", "kernel", "--json", "--tier", "10k"], in: directory)
            let finding = try findings(run).first { $0["summary"]?.stringValue?.contains("redis-server (pid \(pid)) can open 256 files") == true }
            #expect(finding?["severity"] == .string("warning"), "\(run.stdout)")
            #expect(finding?["fix"]?.stringValue?.contains("LimitNOFILE=") == true && finding?["fix"]?.stringValue?.contains("ulimits:") == true)
        }
    }

    /// Every component on a healthy deployment: concurrently, so about as long as the slowest
    /// part (the servers' two /metrics samples), not the sum.
    @Test func aHealthyStackTakesAboutItsSlowestPart() async throws {
        try await RolloutFleet.with { fleet in
            try fleet.writeInventory(version: "0.1.0")
            let run = try await WhisperctlBinary.run(["diag", "--json", "--interval", "1s", "--tier", "10k"], in: fleet.directory)
            let report = try JSONValue.parse(Array(run.stdout.utf8))
            let all = report["findings"]?.arrayValue ?? []
            let components = Set(all.compactMap { $0["component"]?.stringValue })
            #expect(components.isSuperset(of: ["redis", "nats", "haproxy", "server ws1", "server ws2", "kernel"]), "\(components)")
            #expect(!all.contains { $0["severity"] == .string("critical") }, "\(run.stdout)")
            #expect((report["elapsed_ms"]?.intValue ?? .max) < 3000, "1 s of sampling, 50 PINGs and a 1 s queue sample at once: \(report["elapsed_ms"] ?? .null)")
            #expect(report["tier"] == .string("10k") && report["tier_source"] == .string("chosen with --tier"))
            // Every id a runbook can name is in the catalogue its validator checks against.
            let ids = all.compactMap { $0["id"]?.stringValue }
            #expect(ids.count == all.count && ids.allSatisfy(FindingCatalogue.ids.contains), "not in FindingCatalogue: \(ids.filter { !FindingCatalogue.ids.contains($0) })")
            // Without --tier, the tier is the fleet's: both servers' MAX_CONNECTIONS added, and said so.
            let derived = try JSONValue.parse(Array(try await WhisperctlBinary.run(["diag", "server", "--json", "--interval", "1s"], in: fleet.directory).stdout.utf8))
            let source = derived["tier_source"]?.stringValue ?? ""
            #expect(source.hasPrefix("the servers' MAX_CONNECTIONS: ") && source.contains(" + ") && source.contains(" = "), "\(source)")
        }
    }

    /// Frozen services (SIGSTOP: the kernel accepts, nothing answers) cost one timeout, not one
    /// per read: the reads that choose the tier run alongside the rest, and a service that did
    /// not answer them is reported from that answer instead of being waited for again.
    @Test func frozenServicesCostOneTimeoutNotOnePerRead() async throws {
        try await withService({ try await RedisServer.start() }) { redis in
            try await withService({ try await NATSServer.start() }) { nats in
                let directory = try TemporaryDirectory()
                defer { directory.remove() }
                try inventory(directory, "redis:\n  addr: \(redis.address)\nnats:\n  url: \(nats.url)\n  monitor_url: \(nats.monitorURL)\n")
                redis.process.pause()
                nats.process.pause()
                defer {
                    redis.process.resume()
                    nats.process.resume()
                }
                let timeout = 4.0
                let run = try await WhisperctlBinary.run(["diag", "redis", "nats", "kernel", "--json", "--timeout", "\(Int(timeout))s"], in: directory)
                #expect(run.status == 2, "\(run.stdout)")
                let report = try JSONValue.parse(Array(run.stdout.utf8))
                let unreachable = (report["findings"]?.arrayValue ?? []).filter { $0["check"]?.stringValue == "reachable" }
                #expect(Set(unreachable.compactMap { $0["component"]?.stringValue }) == ["redis", "nats"], "\(run.stdout)")
                #expect(unreachable.allSatisfy { $0["severity"] == .string("critical") })
                let elapsed = Double(report["elapsed_ms"]?.intValue ?? .max) / 1000
                #expect(elapsed >= timeout - 0.1, "it did wait for the frozen services: \(elapsed) s")
                #expect(elapsed < 2 * timeout, "one timeout, not one per read: \(elapsed) s")
            }
        }
    }

    /// `diag ws1` looks at that server (as `status ws1`); a typo gets the closest name; a
    /// whisper-server on this host that the inventory does not name is not judged.
    @Test func aServerByNameATypoAndAServerOfAnotherDeployment() async throws {
        let ours = try await WhisperServerProcess.start(environment: ["SERVER_NAME": "ws1"])
        let theirs = try await WhisperServerProcess.start()
        defer { Task { await ours.stop(); await theirs.stop() } }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try inventory(directory, "servers:\n  - name: ws1\n    url: \(ours.baseURL)\n")
        let one = try await WhisperctlBinary.run(["diag", "ws1", "--json", "--interval", "500ms"], in: directory)
        let components = Set(try findings(one).compactMap { $0["component"]?.stringValue })
        #expect(components == ["server ws1"], "\(one.stdout)\(one.stderr)")
        let health = first(try findings(one), "health")
        #expect(health?["severity"] == "ok" && health?["observed"]?.stringValue?.contains("failing") == false, "\(one.stdout)")
        let typo = try await WhisperctlBinary.run(["diag", "redsi"], in: directory)
        #expect(typo.status == 64 && typo.stderr.contains("did you mean 'redis'?"), "\(typo.stderr)")
        let kernel = try await WhisperctlBinary.run(["diag", "kernel", "--json"], in: directory)
        let checked = try findings(kernel).compactMap { $0["summary"]?.stringValue }.filter { $0.hasPrefix("whisper-server (pid") }
        #expect(!checked.contains { $0.contains("pid \(theirs.process.pid))") }, "another deployment's server is not judged: \(checked)")
    }

    @Test func capacityFollowsThePlaybookAndTheMeasuredFigures() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let run = try await WhisperctlBinary.run(["capacity", "--connections", "1000000", "--json"], in: directory)
        #expect(run.status == 0)
        let plan = try JSONValue.parse(Array(run.stdout.utf8))
        #expect(plan["instances"] == .int(10))
        let rows = plan["rows"]?.arrayValue ?? []
        #expect(rows.contains { $0["item"] == .string("load test: source IPs") && $0["value"] == .string("16") }, "1M needs 16 source IPs, as the playbook says")
        #expect(rows.contains { $0["item"]?.stringValue == "server memory (playbook formula, all)" && $0["value"]?.stringValue?.contains("GiB") == true })
        let bad = try await WhisperctlBinary.run(["capacity", "--connections", "0"], in: directory)
        #expect(bad.status == 64)
    }
}

/// A raw TCP client for protocols spoken by hand in tests.
final class TCPTestClient: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard result == 0 else { throw SupportError("connect to \(port): \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw SupportError("send: \(sent)") }
    }

    func close() { Glibc.close(fd) }
}

extension DiagTests {
    @Test func aCertificateExpiringSoonIsCriticalWithTheRenewalAsItsFix() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let soon = try CertificateFactory.selfSigned(commonName: "chat.test", expiresIn: 3 * 86_400)
        let later = try CertificateFactory.selfSigned(commonName: "later.test", expiresIn: 90 * 86_400)
        let soonPath = try directory.write("soon.pem", soon.certificate + soon.key)
        let laterPath = try directory.write("later.pem", later.certificate + later.key)
        try inventory(directory, "certs:\n  - \(soonPath)\n  - \(laterPath)\n")
        let run = try await WhisperctlBinary.run(["diag", "cert", "--json"], in: directory)
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        let all = try findings(run)
        let expiring = first(all, "soon.pem")
        #expect(expiring?["severity"] == "critical" && expiring?["summary"]?.stringValue?.contains("expires in") == true, "\(run.stdout)")
        #expect(expiring?["fix"]?.stringValue?.hasPrefix("whisperctl cert renew --pem \(soonPath)") == true)
        #expect(first(all, "later.pem")?["severity"] == "ok")
    }
}
