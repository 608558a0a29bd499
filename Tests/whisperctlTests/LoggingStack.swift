import Foundation
import TestSupport

/// A deployment of real processes, each writing its own log: Redis, NATS, PostgreSQL, two
/// whisper-servers (LOG_LEVEL=info) and HAProxy in front of them, both servers UP. For the
/// commands that read logs and everything else at once (`logs`, `bundle`).
final class LoggingStack: StoppableService {
    let redis: RedisServer
    let nats: NATSServer
    let postgres: PostgresServer
    let servers: [WhisperServerProcess]
    let haproxy: HAProxyServer

    private init(redis: RedisServer, nats: NATSServer, postgres: PostgresServer, servers: [WhisperServerProcess], haproxy: HAProxyServer) {
        self.redis = redis
        self.nats = nats
        self.postgres = postgres
        self.servers = servers
        self.haproxy = haproxy
    }

    /// Starts everything; if any part fails, stops the parts that came up.
    static func start(redisPassword: String? = nil) async throws -> LoggingStack {
        async let redis = Result(catching: { try await RedisServer.start(password: redisPassword) })
        async let nats = Result(catching: { try await NATSServer.start() })
        async let postgres = Result(catching: { try await PostgresServer.start() })
        async let ws1 = Result(catching: { try await WhisperServerProcess.start(environment: ["LOG_LEVEL": "info"]) })
        async let ws2 = Result(catching: { try await WhisperServerProcess.start(environment: ["LOG_LEVEL": "info"]) })
        let (r, n, p, s1, s2) = await (redis, nats, postgres, ws1, ws2)
        let candidates: [(any StoppableService)?] = [try? r.get(), try? n.get(), try? p.get(), try? s1.get(), try? s2.get()]
        let started = candidates.compactMap { $0 }
        do {
            let servers = [try s1.get(), try s2.get()]
            let haproxy = try await HAProxyServer.start(servers: [("ws1", servers[0].port), ("ws2", servers[1].port)])
            let stack = LoggingStack(redis: try r.get(), nats: try n.get(), postgres: try p.get(), servers: servers, haproxy: haproxy)
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

    /// whisperctl.yml for it, every service with its `logs:`; `redisPassword` and `postgresURL`
    /// are written as given (a `${VAR}` from the .env, say).
    func inventory(deployment: String, redisPassword: String? = nil, postgresURL: String? = nil) -> String {
        var lines = [
            "deployment: \(deployment)",
            "servers:",
            "  - name: ws1",
            "    url: \(servers[0].baseURL)",
            "    logs: \(servers[0].process.logPath)",
            "  - name: ws2",
            "    url: \(servers[1].baseURL)",
            "    logs: file:\(servers[1].process.logPath)",
            "haproxy:",
            "  stats_url: \(haproxy.statsURL)",
            "  runtime_api: \(haproxy.runtimeSocket)",
            "  backend: \(haproxy.backend)",
            "  logs: \(haproxy.process.logPath)",
            "redis:",
            "  addr: \(redis.address)",
        ]
        if let redisPassword { lines.append("  password: \(redisPassword)") }
        lines += [
            "  logs: \(redis.process.logPath)",
            "nats:",
            "  url: \(nats.url)",
            "  monitor_url: \(nats.monitorURL)",
            "  logs: \(nats.process.logPath)",
            "postgres:",
            "  url: \(postgresURL ?? postgres.url)",
            "  logs: \(postgres.directory.file("postgres.log"))",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    func stop() async {
        await haproxy.stop()
        for server in servers { await server.stop() }
        await redis.stop()
        await nats.stop()
        await postgres.stop()
    }
}
