import Foundation

/// One line of one service's log, understood as far as its format allows.
public struct LogRecord: Sendable, Equatable {
    /// A server's name, or haproxy, redis, nats, postgres.
    public var service: String
    /// When it was written, when the line says; else nil (kept in its place in its service's order).
    public var time: Date?
    public var level: LogLevel?
    public var message: String
    /// whisper-server's structured fields (besides ts, level and msg), in their order.
    public var fields: [(String, JSONValue)]
    /// The line as the source gave it.
    public var raw: String
    /// The service's own JSON object, when the line was one (printed as it is with --json).
    public var original: [(String, JSONValue)]?

    public init(service: String, time: Date?, level: LogLevel?, message: String, fields: [(String, JSONValue)] = [], raw: String) {
        self.service = service
        self.time = time
        self.level = level
        self.message = message
        self.fields = fields
        self.raw = raw
    }

    public static func == (lhs: LogRecord, rhs: LogRecord) -> Bool {
        lhs.service == rhs.service && lhs.time == rhs.time && lhs.level == rhs.level && lhs.message == rhs.message
            && lhs.raw == rhs.raw && lhs.fields.map(\.0) == rhs.fields.map(\.0) && lhs.fields.map(\.1) == rhs.fields.map(\.1)
            && lhs.original.map(JSONValue.object) == rhs.original.map(JSONValue.object)
    }

    /// `--json`: a service's own JSON line as it is, with `service` first; any other line as
    /// service, time, level, message and the raw line.
    public var json: JSONValue {
        if let original { return .object([("service", .string(service))] + original.filter { $0.0 != "service" }) }
        var pairs: [(String, JSONValue)] = [
            ("service", .string(service)), ("time", time.map { .string(LogTime.format($0)) } ?? .null),
            ("level", level.map { .string($0.name) } ?? .null), ("message", .string(message)),
        ]
        pairs.append(("raw", .string(raw)))
        return .object(pairs)
    }
}

/// Severities across the formats, in syslog's order (journald's PRIORITY).
public enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case trace = 8, debug = 7, info = 6, notice = 5, warning = 4, error = 3, critical = 2

    public var name: String {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .notice: "notice"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        }
    }

    /// Five letters at most, for a column: TRACE DEBUG INFO NOTE WARN ERROR CRIT.
    public var label: String {
        switch self {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .notice: "NOTE"
        case .warning: "WARN"
        case .error: "ERROR"
        case .critical: "CRIT"
        }
    }

    /// More severe is greater: `level >= .warning` keeps warnings and worse.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue > rhs.rawValue }

    /// The names the formats use: swift-log's, syslog's, NATS's [INF], PostgreSQL's LOG, ...
    public init?(named text: String) {
        switch text.lowercased() {
        case "trace", "trc": self = .trace
        case "debug", "dbg", "debug1", "debug2", "debug3", "debug4", "debug5", "verbose": self = .debug
        case "info", "inf", "information", "log", "statement": self = .info
        case "notice", "ntc": self = .notice
        case "warning", "warn", "wrn": self = .warning
        case "error", "err": self = .error
        case "critical", "crit", "fatal", "ftl", "panic", "alert", "emerg", "emergency": self = .critical
        default: return nil
        }
    }

    /// journald's PRIORITY 0-7.
    init?(priority: Int) {
        switch priority {
        case 0...2: self = .critical
        case 3: self = .error
        case 4: self = .warning
        case 5: self = .notice
        case 6: self = .info
        case 7: self = .debug
        default: return nil
        }
    }
}

/// Times as the log formats write them, read leniently and printed one way.
public enum LogTime {
    public static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// RFC 3339 with or without fractional seconds (up to nanoseconds), Z or an offset; a space
    /// instead of the T.
    public static func parseISO(_ text: Substring) -> Date? {
        var text = String(text)
        if text.count > 10, text[text.index(text.startIndex, offsetBy: 10)] == " " {
            text.replaceSubrange(text.index(text.startIndex, offsetBy: 10)...text.index(text.startIndex, offsetBy: 10), with: "T")
        }
        // Fractions beyond milliseconds are cut: the formatter reads at most three digits reliably.
        var fraction = 0.0
        if let dot = text.firstIndex(of: "."), dot > text.index(text.startIndex, offsetBy: min(18, text.count - 1)) {
            let digits = text[text.index(after: dot)...].prefix { $0.isNumber }
            fraction = Double("0." + digits) ?? 0
            text.removeSubrange(dot..<text.index(text.index(after: dot), offsetBy: digits.count))
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard let whole = formatter.date(from: text) else { return nil }
        return whole.addingTimeInterval(fraction)
    }
}
