import Foundation
import NIOCore
import OpsKit

/// whisper-server's settings, read from the deployment's environment variables.
package struct ServerConfiguration: Sendable {
    var host = "0.0.0.0"
    var port = 8080
    var serverName = "ws-local"
    /// The version /health reports: a deployment's release name, else the build's.
    var releaseVersion = ChatServer.version
    var maxConnections = 100_000
    var maxConnectionsPerIP = 50
    var maxMessagesPer10s = 200
    var maxBytesPer10s = 1 << 20
    var readTimeout: Duration = .seconds(10)
    var writeTimeout: Duration = .seconds(10)
    var drainGrace: Duration = .seconds(3)
    var drainSpread: Duration = .seconds(10)
    var drainTimeout: Duration = .seconds(30)
    var matchTimeout: Duration = .seconds(30)
    var matchFallback: Duration = .seconds(5)
    var heartbeatInterval: Duration = .seconds(30)
    var heartbeatGrace: Duration = .seconds(10)
    var blockedWordsFile: String?
    var logLevel = "info"
    var logFormat = "json"
    /// Event loop threads; defaults to the core count.
    var threads = System.coreCount
    /// Shared state and routing across instances; both or neither (embedded state).
    var redisAddress: RedisAddress?
    /// NATS_URL's servers, in order: one, or several nodes of a cluster.
    var natsServers: [NATSAddress] = []
    var natsAddress: NATSAddress? { natsServers.first }
    var databaseURL: String?
    var migrationsDirectory = "migrations"
    /// A Redis command unanswered this long drops the connection (a stopped or partitioned server).
    var redisTimeout: Duration = .seconds(2)
    /// NATS keep-alive: two unanswered PINGs this far apart drop the connection.
    var natsPingInterval: Duration = .seconds(2)
    var resumeWindow: Duration = .seconds(60)
    /// Messages kept per session for resume.
    var resumeBuffer = 256
    var reportsToBan = 3
    var banDuration: Duration = .seconds(86_400)
    /// Peers whose X-Forwarded-For is believed (HAProxy's addresses).
    var trustedProxies: [IPNetwork] = []
    var ipHashSalt = "whisper"
    /// Reports kept in memory while PostgreSQL is unreachable.
    var reportQueueLimit = 10_000

    /// A variable with an invalid value: start-up stops with this message and exit code 78 (EX_CONFIG).
    struct InvalidSetting: Error, CustomStringConvertible {
        var variable: String
        var value: String
        var expected: String
        var description: String { "invalid \(variable)=\(value): expected \(expected)" }
    }

    package static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerConfiguration {
        var config = ServerConfiguration()
        func text(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        func positive(_ name: String) throws -> Int? {
            guard let raw = text(name) else { return nil }
            guard let value = Int(raw), value > 0 else { throw InvalidSetting(variable: name, value: raw, expected: "a positive integer") }
            return value
        }
        func duration(_ name: String) throws -> Duration? {
            guard let raw = text(name) else { return nil }
            guard let value = Duration(parsing: raw), value >= .zero else {
                throw InvalidSetting(variable: name, value: raw, expected: "a duration such as 10s, 500ms or 1m")
            }
            return value
        }
        if let listen = text("LISTEN_ADDR") {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port)
            else { throw InvalidSetting(variable: "LISTEN_ADDR", value: listen, expected: "[host]:port, e.g. :8080") }
            let host = String(listen[..<colon])
            config.host = host.isEmpty ? "0.0.0.0" : host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            config.port = port
        }
        config.serverName = text("SERVER_NAME") ?? ProcessInfo.processInfo.hostName
        config.releaseVersion = text("WHISPER_VERSION") ?? config.releaseVersion
        config.maxConnections = try positive("MAX_CONNECTIONS") ?? config.maxConnections
        config.maxConnectionsPerIP = try positive("MAX_CONNS_PER_IP") ?? config.maxConnectionsPerIP
        config.maxMessagesPer10s = try positive("MAX_MSGS_PER_10S") ?? config.maxMessagesPer10s
        config.maxBytesPer10s = try positive("MAX_BYTES_PER_10S") ?? config.maxBytesPer10s
        config.readTimeout = try duration("READ_TIMEOUT") ?? config.readTimeout
        config.writeTimeout = try duration("WRITE_TIMEOUT") ?? config.writeTimeout
        config.drainGrace = try duration("DRAIN_GRACE") ?? config.drainGrace
        config.drainSpread = try duration("DRAIN_SPREAD") ?? config.drainSpread
        config.drainTimeout = try duration("DRAIN_TIMEOUT") ?? config.drainTimeout
        config.matchTimeout = try duration("MATCH_TIMEOUT") ?? config.matchTimeout
        config.matchFallback = try duration("MATCH_FALLBACK") ?? config.matchFallback
        config.heartbeatInterval = try duration("HEARTBEAT_INTERVAL") ?? config.heartbeatInterval
        config.heartbeatGrace = try duration("HEARTBEAT_GRACE") ?? config.heartbeatGrace
        config.threads = try positive("EVENT_LOOP_THREADS") ?? config.threads
        if let file = text("BLOCKED_WORDS_FILE") {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw InvalidSetting(variable: "BLOCKED_WORDS_FILE", value: file, expected: "a readable file")
            }
            config.blockedWordsFile = file
        }
        if let redis = text("REDIS_ADDR") {
            do {
                var address = try RedisAddress(parsing: redis)
                if let password = environment["REDIS_PASSWORD"], !password.isEmpty { address.password = password }
                config.redisAddress = address
            } catch {
                throw InvalidSetting(variable: "REDIS_ADDR", value: Redactor.redactURL(redis), expected: "host:port or redis://[:password@]host:port[/db]")
            }
        }
        if let nats = text("NATS_URL") {
            do {
                config.natsServers = try NATSAddress.list(parsing: nats)
            } catch {
                throw InvalidSetting(variable: "NATS_URL", value: Redactor.redactURL(nats), expected: "nats://[user:password@]host:port[,nats://host:port...]")
            }
        }
        if (config.redisAddress == nil) != (config.natsAddress == nil) {
            let missing = config.redisAddress == nil ? "REDIS_ADDR" : "NATS_URL"
            throw InvalidSetting(variable: missing, value: "", expected: "to be set too: REDIS_ADDR and NATS_URL together enable the shared state")
        }
        if let url = text("DATABASE_URL") {
            guard (try? PostgresConnectionInfo(parsing: url)) != nil else {
                throw InvalidSetting(variable: "DATABASE_URL", value: Redactor.redactURL(url), expected: "postgres://user:password@host:5432/db")
            }
            config.databaseURL = url
        }
        config.migrationsDirectory = text("MIGRATIONS_DIR")
            ?? (FileManager.default.fileExists(atPath: "migrations") || !FileManager.default.fileExists(atPath: "/migrations") ? "migrations" : "/migrations")
        config.redisTimeout = try duration("REDIS_TIMEOUT") ?? config.redisTimeout
        config.natsPingInterval = try duration("NATS_PING_INTERVAL") ?? config.natsPingInterval
        config.resumeWindow = try duration("RESUME_WINDOW") ?? config.resumeWindow
        config.resumeBuffer = try positive("RESUME_BUFFER") ?? config.resumeBuffer
        config.reportsToBan = try positive("REPORTS_TO_BAN") ?? config.reportsToBan
        config.banDuration = try duration("BAN_DURATION") ?? config.banDuration
        config.reportQueueLimit = try positive("REPORT_QUEUE_LIMIT") ?? config.reportQueueLimit
        if let proxies = text("TRUSTED_PROXIES") {
            config.trustedProxies = try proxies.split(separator: ",").map { item in
                let entry = item.trimmingCharacters(in: .whitespaces)
                guard let network = IPNetwork(parsing: entry) else {
                    throw InvalidSetting(variable: "TRUSTED_PROXIES", value: entry, expected: "comma-separated IP addresses or CIDR blocks, e.g. 10.0.0.0/8,127.0.0.1")
                }
                return network
            }
        }
        if let salt = environment["IP_HASH_SALT"], !salt.isEmpty { config.ipHashSalt = salt }
        if let level = text("LOG_LEVEL")?.lowercased() {
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
                throw InvalidSetting(variable: "LOG_LEVEL", value: level, expected: "trace|debug|info|notice|warning|error|critical")
            }
            config.logLevel = level
        }
        if let format = text("LOG_FORMAT")?.lowercased() {
            guard format == "json" || format == "text" else {
                throw InvalidSetting(variable: "LOG_FORMAT", value: format, expected: "json|text")
            }
            config.logFormat = format
        }
        return config
    }
}
