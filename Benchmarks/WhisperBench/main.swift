import Foundation
import OpsKit
import TestSupport

// Reproducible figures for whisperctl, against real services started here on loopback.
//   swift build -c release && .build/release/whisper-bench status [runs]
//   .build/release/whisper-bench startup [runs]
//   .build/release/whisper-bench json [rounds]
//   .build/release/whisper-bench metrics-parse FILE [runs]     (Benchmarks/metrics/compare.sh runs it beside Go and Python)
//   .build/release/whisper-bench dashboard [instances] [seconds]  (dashboard CPU and RSS, in tmux)
//   .build/release/whisper-bench demo-first-frame [runs]
//   .build/release/whisper-bench backup [megabytes] [runs]       (whisperctl backup beside pg_dump -Fc)
//   .build/release/whisper-bench migrations [count] [runs]       (migrate up and status)
//   .build/release/whisper-bench rollout [connections] [rate]    (rollout of 2 servers under loadtest through HAProxy)

let arguments = CommandLine.arguments.dropFirst()
let mode = arguments.first ?? "all"
let runs = arguments.dropFirst().first.flatMap { Int($0) } ?? 15
let whisperctl = ProductBinary.path("whisperctl")

func median(_ values: [Duration]) -> Duration { values.sorted()[values.count / 2] }
func ms(_ duration: Duration) -> String { String(format: "%.1f ms", duration.seconds * 1000) }

func benchStartup() throws {
    let directory = try TemporaryDirectory(prefix: "whisper-bench")
    defer { directory.remove() }
    var times: [Duration] = []
    for _ in 0..<runs {
        let run = try Command.capture(whisperctl, ["--version"], environment: ["PATH": "/usr/bin:/bin"], directory: directory.path)
        times.append(run.elapsed)
    }
    print("whisperctl --version: median \(ms(median(times))) over \(runs) runs (min \(ms(times.min()!)), max \(ms(times.max()!)))")
}

func benchStatus() async throws {
    async let redis = RedisServer.start()
    async let nats = NATSServer.start()
    async let postgres = PostgresServer.start()
    let server = try await FixtureHTTPServer.start(routes: FixtureHTTPServer.healthyServerRoutes())
    let hole = try BlackHoleServer()
    let haproxy = try await HAProxyServer.start(servers: [("ws1", server.port)])
    let (r, n, p) = try await (redis, nats, postgres)
    let directory = try TemporaryDirectory(prefix: "whisper-bench")
    var lines = ["deployment: bench", "servers:"]
    for index in 1...19 { lines += ["  - name: ws\(index)", "    url: \(server.url)"] }
    lines += ["  - name: hung", "    url: \(hole.url)"]
    lines += [
        "haproxy:", "  stats_url: \(haproxy.statsURL)", "  backend: \(haproxy.backend)",
        "redis:", "  addr: \(r.address)", "nats:", "  url: \(n.url)", "  monitor_url: \(n.monitorURL)",
        "postgres:", "  url: \(p.url)",
    ]
    try directory.write("whisperctl.yml", lines.joined(separator: "\n") + "\n")
    try await haproxy.waitFor(.up, servers: ["ws1"])
    var times: [Duration] = []
    for _ in 0..<runs {
        let run = try Command.capture(whisperctl, ["status", "--json", "--timeout", "2s"], environment: ["PATH": "/usr/bin:/bin"], directory: directory.path)
        guard run.status == 2 else { throw SupportError("expected critical (the hung server), got \(run.status): \(run.stdout)") }
        times.append(run.elapsed)
    }
    print("whisperctl status, full stack + 20 servers (1 hung), timeout 2 s: median \(ms(median(times))) over \(runs) runs (min \(ms(times.min()!)), max \(ms(times.max()!)))")
    await haproxy.stop()
    await server.stop()
    await hole.stop()
    await r.stop()
    await n.stop()
    await p.stop()
    directory.remove()
}

switch mode {
case "startup": try benchStartup()
case "status": try await benchStatus()
case "json": JSONDecodingBench.run(rounds: arguments.dropFirst().first.flatMap { Int($0) } ?? 200_000)
case "metrics-parse":
    try MetricsParseBench.run(file: arguments.dropFirst().first ?? "", runs: arguments.dropFirst(2).first.flatMap { Int($0) } ?? 20)
case "dashboard":
    try await DashboardBench.watch(
        instances: arguments.dropFirst().first.flatMap { Int($0) } ?? 20, seconds: arguments.dropFirst(2).first.flatMap { Int($0) } ?? 60)
case "backup":
    try await DataSafetyBench.backup(
        megabytes: arguments.dropFirst().first.flatMap { Int($0) } ?? 1024, runs: arguments.dropFirst(2).first.flatMap { Int($0) } ?? 3)
case "migrations":
    try await DataSafetyBench.migrations(count: arguments.dropFirst().first.flatMap { Int($0) } ?? 500, runs: arguments.dropFirst(2).first.flatMap { Int($0) } ?? 3)
case "rollout":
    try await RolloutBench.run(
        connections: arguments.dropFirst().first.flatMap { Int($0) } ?? 2000, rate: arguments.dropFirst(2).first.flatMap { Int($0) } ?? 2000)
case "demo-first-frame": try await DashboardBench.demoFirstFrame(runs: arguments.dropFirst().first.flatMap { Int($0) } ?? 5)
default:
    try benchStartup()
    try await benchStatus()
}
