import Foundation
import OpsKit
import TestSupport

/// The dashboard's own cost while it watches a deployment, and the demo's time to its first frame,
/// both in a real terminal (tmux).
enum DashboardBench {
    /// CPU (share of one core) and RSS of `whisperctl dashboard` watching `instances` real
    /// whisper-servers, HAProxy, Redis and NATS at 1 Hz for `seconds`.
    static func watch(instances: Int, seconds: Int) async throws {
        var servers: [WhisperServerProcess] = []
        for _ in 0..<instances { servers.append(try await WhisperServerProcess.start(environment: ["EVENT_LOOP_THREADS": "1"])) }
        let redis = try await RedisServer.start()
        let nats = try await NATSServer.start()
        let names = (1...instances).map { "ws\($0)" }
        let haproxy = try await HAProxyServer.start(servers: Array(zip(names, servers.map(\.port))).map { ($0.0, $0.1) })
        try await haproxy.waitFor(.up, servers: names)
        let directory = try TemporaryDirectory(prefix: "whisper-bench")
        var lines = ["deployment: bench", "servers:"]
        for (name, server) in zip(names, servers) { lines += ["  - name: \(name)", "    url: \(server.baseURL)"] }
        lines += [
            "haproxy:", "  stats_url: \(haproxy.statsURL)", "  runtime_api: \(haproxy.runtimeSocket)", "  backend: \(haproxy.backend)",
            "redis:", "  addr: \(redis.address)", "nats:", "  url: \(nats.url)", "  monitor_url: \(nats.monitorURL)", "postgres: ~",
        ]
        try directory.write("whisperctl.yml", lines.joined(separator: "\n") + "\n")
        let session = try await TmuxSession(
            command: "cd \(directory.path) && sh -c 'echo $$ > pid; exec \(ProductBinary.path("whisperctl")) dashboard --interval 1s'; sleep 60",
            environment: ["TERM": "xterm-256color", "HOME": directory.path])
        try await session.waitForScreen("\(instances)/\(instances) reporting") { $0.contains("\(instances)/\(instances) reporting") }
        let pid = Int32(try String(contentsOfFile: directory.file("pid"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        // Warm-up: histories fill, the first allocations are done.
        try await Task.sleep(for: .seconds(5))
        let before = try cpuSeconds(pid)
        let started = ContinuousClock.now
        var peakRSS = 0
        for _ in 0..<seconds {
            try await Task.sleep(for: .seconds(1))
            peakRSS = max(peakRSS, try residentBytes(pid))
        }
        let cpu = try cpuSeconds(pid) - before
        let wall = (ContinuousClock.now - started).seconds
        let screen = try await session.screen()
        guard screen.contains("\(instances)/\(instances) reporting") else { throw SupportError("instances stopped reporting:\n\(screen)") }
        print(String(format: "whisperctl dashboard watching %d whisper-servers + HAProxy + Redis + NATS at 1 Hz for %.0f s: CPU %.2f%% of one core, peak RSS %@",
                     instances, wall, cpu / wall * 100, ByteCount.format(peakRSS)))
        try await session.send("q")
        try await Task.sleep(for: .milliseconds(500))
        session.kill()
        await haproxy.stop()
        await redis.stop()
        await nats.stop()
        for server in servers { await server.stop() }
        directory.remove()
    }

    /// From starting `whisperctl demo` to its first frame, and to the first frame with the
    /// simulated users' connections on it.
    static func demoFirstFrame(runs: Int) async throws {
        var firstFrame: [Duration] = []
        var withUsers: [Duration] = []
        for _ in 0..<runs {
            let directory = try TemporaryDirectory(prefix: "whisper-bench")
            let started = ContinuousClock.now
            let session = try await TmuxSession(
                command: "cd \(directory.path) && \(ProductBinary.path("whisperctl")) demo; sleep 60",
                environment: ["TERM": "xterm-256color", "HOME": directory.path])
            try await session.waitForScreen("the first frame", timeout: .seconds(30)) { $0.contains("whisperctl dashboard") }
            firstFrame.append(ContinuousClock.now - started)
            try await session.waitForScreen("connections", timeout: .seconds(30)) { screen in
                screen.contains("1/1 reporting") && !screen.contains("conns 0 ") && !screen.contains("conns - ")
            }
            withUsers.append(ContinuousClock.now - started)
            try await session.send("q")
            try await Task.sleep(for: .milliseconds(500))
            session.kill()
            directory.remove()
        }
        print("whisperctl demo: first frame median \(ms(median(firstFrame))) (min \(ms(firstFrame.min()!)), max \(ms(firstFrame.max()!))); "
            + "first frame with the users connected median \(ms(median(withUsers))) over \(runs) runs")
    }

    private static func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name (which may hold spaces): utime is the 14th field overall.
        let fields = stat[stat.range(of: ")")!.upperBound...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (Double(fields[11])! + Double(fields[12])!) / ticks
    }

    private static func residentBytes(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
}
