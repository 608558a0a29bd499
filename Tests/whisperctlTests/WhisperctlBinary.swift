import Foundation
import OpsKit
import Synchronization
import TestSupport

/// Runs the built `whisperctl` binary the way an operator or a cron job does.
enum WhisperctlBinary {
    static var path: String { ProductBinary.path("whisperctl") }

    /// - Parameters:
    ///   - environment: added to a minimal environment (PATH, HOME), so the caller's REDIS_ADDR and
    ///     friends never leak in.
    ///   - directory: the working directory, where ./whisperctl.yml and ./.env are looked for.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], in directory: TemporaryDirectory,
        interruptAfter: Duration? = nil, signal: Int32 = SIGINT, binary: String? = nil, started: (@Sendable (pid_t) -> Void)? = nil
    ) async throws -> ProgramRun {
        var base = ["PATH": "/usr/bin:/bin", "HOME": directory.path]
        base.merge(environment) { _, new in new }
        let path = binary ?? self.path
        let workingDirectory = directory.path
        let variables = base
        return try await Offload.run {
            try Command.capture(
                path, arguments, environment: variables, directory: workingDirectory, interruptAfter: interruptAfter, signal: signal, started: started)
        }
    }
}

extension WhisperctlBinary {
    /// Runs whisperctl on a terminal (util-linux `script` gives it a pty) and types `answer` and
    /// Enter; with no answer nobody types: stdin stays open (a `sleep` the command kills when it
    /// ends, so `script` sees the end of input) and gives nothing. The terminal's output (stdout
    /// and stderr together, the echoed answer included, lines ending \r\n) is `stdout`.
    static func runOnTerminal(_ arguments: [String], answering answer: String?, in directory: TemporaryDirectory) async throws -> ProgramRun {
        let quoted = ([path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let workingDirectory = directory.path
        let shell = answer == nil
            ? ["-c", "coproc SILENT { sleep 600; }; script -qec \"$1; rc=\\$?; kill $SILENT_PID; exit \\$rc\" /dev/null <&\"${SILENT[0]}\"", "bash", quoted]
            : ["-c", "printf '%s\\n' \"$1\" | script -qec \"$2\" /dev/null", "bash", answer!, quoted]
        return try await Offload.run {
            try Command.capture("/bin/bash", shell, environment: ["PATH": "/usr/bin:/bin", "HOME": workingDirectory, "TERM": "dumb"], directory: workingDirectory)
        }
    }

    /// Runs whisperctl and sends it `signal` once `ready` holds (a file the step writes, a server
    /// draining), however long it took to get there.
    static func run(
        _ arguments: [String], in directory: TemporaryDirectory, signal: Int32, once what: String, timeout: Duration = .seconds(30),
        _ ready: @escaping () async -> Bool
    ) async throws -> ProgramRun {
        let pid = Atomic<Int32>(0)
        async let running = run(arguments, in: directory) { pid.store($0, ordering: .releasing) }
        try await eventually(timeout: timeout, what, ready)
        kill(pid.load(ordering: .acquiring), signal)
        return try await running
    }
}

/// A whole local deployment: Redis, NATS, PostgreSQL, two servers and HAProxy in front of them.
final class LocalStack: StoppableService {
    let redis: RedisServer
    let nats: NATSServer
    let postgres: PostgresServer
    let servers: [FixtureHTTPServer]
    let haproxy: HAProxyServer
    let directory: TemporaryDirectory

    private init(
        redis: RedisServer, nats: NATSServer, postgres: PostgresServer, servers: [FixtureHTTPServer],
        haproxy: HAProxyServer, directory: TemporaryDirectory
    ) {
        self.redis = redis
        self.nats = nats
        self.postgres = postgres
        self.servers = servers
        self.haproxy = haproxy
        self.directory = directory
    }

    /// Starts everything, concurrently where it can; if any part fails, stops the parts that came up.
    static func start() async throws -> LocalStack {
        async let redis = Result(catching: { try await RedisServer.start() })
        async let nats = Result(catching: { try await NATSServer.start() })
        async let postgres = Result(catching: { try await PostgresServer.start() })
        async let ws1 = Result(catching: { try await FixtureHTTPServer.start(routes: FixtureHTTPServer.healthyServerRoutes(connections: 10)) })
        async let ws2 = Result(catching: { try await FixtureHTTPServer.start(routes: FixtureHTTPServer.healthyServerRoutes(connections: 7)) })
        let (r, n, p, s1, s2) = await (redis, nats, postgres, ws1, ws2)
        let candidates: [(any StoppableService)?] = [try? r.get(), try? n.get(), try? p.get(), try? s1.get(), try? s2.get()]
        let started = candidates.compactMap { $0 }
        do {
            let servers = [try s1.get(), try s2.get()]
            let haproxy = try await HAProxyServer.start(servers: [("ws1", servers[0].port), ("ws2", servers[1].port)])
            let stack = LocalStack(
                redis: try r.get(), nats: try n.get(), postgres: try p.get(), servers: servers, haproxy: haproxy,
                directory: try TemporaryDirectory(prefix: "whisper-stack"))
            do {
                try await haproxy.waitFor(.up, servers: ["ws1", "ws2"])
            } catch {
                await stack.stop()
                throw error
            }
            return stack
        } catch {
            for service in started { await service.stop() }
            throw error
        }
    }

    /// A whisperctl.yml describing this stack; `extra` lines are appended.
    func writeConfig(certs: [String] = [], servers extraServers: [(String, String)] = [], database: String? = nil) throws {
        var lines = [
            "deployment: test-stack",
            "servers:",
            "  - name: ws1",
            "    url: \(servers[0].url)",
            "  - name: ws2",
            "    url: \(servers[1].url)",
        ]
        for (name, url) in extraServers { lines += ["  - name: \(name)", "    url: \(url)"] }
        lines += [
            "haproxy:",
            "  stats_url: \(haproxy.statsURL)",
            "  backend: \(haproxy.backend)",
            "redis:",
            "  addr: \(redis.address)",
            "nats:",
            "  url: \(nats.url)",
            "  monitor_url: \(nats.monitorURL)",
            "postgres:",
            "  url: \(database ?? "${DATABASE_URL}")",
        ]
        if !certs.isEmpty { lines += ["certs:"] + certs.map { "  - \($0)" } }
        try directory.write("whisperctl.yml", lines.joined(separator: "\n") + "\n")
    }

    func stop() async {
        await haproxy.stop()
        for server in servers { await server.stop() }
        await redis.stop()
        await nats.stop()
        await postgres.stop()
        directory.remove()
    }
}
