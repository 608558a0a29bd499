import Foundation
import NIOCore

/// whisper-server's settings, read from the deployment's environment variables.
struct ServerConfiguration: Sendable {
    var host = "0.0.0.0"
    var port = 8080
    var serverName = "ws-local"
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

    /// A variable with an invalid value: start-up stops with this message and exit code 78 (EX_CONFIG).
    struct InvalidSetting: Error, CustomStringConvertible {
        var variable: String
        var value: String
        var expected: String
        var description: String { "invalid \(variable)=\(value): expected \(expected)" }
    }

    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerConfiguration {
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
            guard let value = Duration(goStyle: raw), value >= .zero else {
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

extension Duration {
    /// Go's duration syntax as the deployment writes it ("10s", "500ms", "1m30s"), or a bare number of seconds.
    init?(goStyle text: String) {
        if let seconds = Double(text), seconds.isFinite {
            self = .nanoseconds(Int64(seconds * 1e9))
            return
        }
        var total = 0.0
        var number = ""
        var index = text.startIndex
        guard !text.isEmpty else { return nil }
        while index < text.endIndex {
            let character = text[index]
            if character.isNumber || character == "." {
                number.append(character)
                index = text.index(after: index)
                continue
            }
            var unit = ""
            while index < text.endIndex, text[index].isLetter || text[index] == "µ" {
                unit.append(text[index])
                index = text.index(after: index)
            }
            guard let value = Double(number) else { return nil }
            let scale: Double
            switch unit {
            case "ns": scale = 1e-9
            case "us", "µs": scale = 1e-6
            case "ms": scale = 1e-3
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            default: return nil
            }
            total += value * scale
            number = ""
        }
        guard number.isEmpty else { return nil }
        self = .nanoseconds(Int64(total * 1e9))
    }
}
