import Foundation

/// Reads one raw line of a service's log into a `LogRecord`: journald's JSON export, Docker's
/// and kubectl's time stamps, whisper-server's JSON lines, and the plain formats of Redis, NATS,
/// PostgreSQL, HAProxy and syslog. A line it does not recognise is kept whole, with no time.
public struct LogLineParser: Sendable {
    /// Syslog lines carry no year: the one that puts them closest before now.
    public var now: Date

    public init(now: Date = Date()) { self.now = now }

    public func parse(_ line: String, service: String, source: LogSource) -> LogRecord {
        let raw = line.hasSuffix("\r") ? String(line.dropLast()) : line
        switch source {
        case .journald:
            return journal(raw, service: service) ?? plain(raw, service: service)
        case .docker:
            return withLeadingTime(Substring(raw), service: service, raw: raw)
        case .kubernetes:
            // `[pod/whisper-1/server] 2026-12-03T08:00:00.123456789Z message`
            var rest = Substring(raw)
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                rest = rest[rest.index(after: close)...].drop { $0 == " " }
            }
            return withLeadingTime(rest, service: service, raw: raw)
        case .file:
            return plain(raw, service: service)
        }
    }

    /// Docker and kubectl put an RFC 3339 time and a space before the service's own line.
    func withLeadingTime(_ text: Substring, service: String, raw: String) -> LogRecord {
        guard let space = text.firstIndex(of: " "), let time = LogTime.parseISO(text[..<space]) else {
            var record = plain(String(text), service: service)
            record.raw = raw
            return record
        }
        var record = plain(String(text[text.index(after: space)...]), service: service)
        record.time = record.time ?? time
        record.raw = raw
        return record
    }

    /// `journalctl -o json`: MESSAGE (a string, or an array of bytes when it is not UTF-8),
    /// __REALTIME_TIMESTAMP in microseconds, PRIORITY 0-7.
    func journal(_ line: String, service: String) -> LogRecord? {
        guard line.hasPrefix("{"), let value = try? JSONValue.parse(Array(line.utf8)), case .object = value else { return nil }
        let message: String
        switch value["MESSAGE"] {
        case .string(let text): message = text
        case .array(let bytes): message = String(decoding: bytes.compactMap { $0.intValue.flatMap { UInt8(exactly: $0) } }, as: UTF8.self)
        default: message = ""
        }
        var record = plain(message, service: service)
        if record.time == nil, let micros = value["__REALTIME_TIMESTAMP"]?.stringValue.flatMap(Double.init), micros.isFinite {
            record.time = Date(timeIntervalSince1970: micros / 1_000_000)
        }
        if record.level == nil, let priority = value["PRIORITY"]?.stringValue.flatMap(Int.init) {
            record.level = LogLevel(priority: priority)
        }
        record.raw = line
        return record
    }

    func plain(_ line: String, service: String) -> LogRecord {
        if line.hasPrefix("{"), let record = whisperJSON(line, service: service) { return record }
        for format in [nats, redis, postgres, haproxy, isoLeading, syslog] {
            if let record = format(line, service) { return record }
        }
        return LogRecord(service: service, time: nil, level: nil, message: line, raw: line)
    }

    /// whisper-server's LOG_FORMAT=json: {"ts", "level", "msg", fields...}; other JSON loggers'
    /// time, timestamp, message and severity too.
    func whisperJSON(_ line: String, service: String) -> LogRecord? {
        guard let value = try? JSONValue.parse(Array(line.utf8)), case .object(let pairs) = value else { return nil }
        let timeKeys = ["ts", "time", "timestamp", "@timestamp"]
        let levelKeys = ["level", "severity", "lvl"]
        let messageKeys = ["msg", "message"]
        let time = pairs.first { timeKeys.contains($0.0) }?.1.stringValue.flatMap { LogTime.parseISO(Substring($0)) }
        let level = pairs.first { levelKeys.contains($0.0) }?.1.stringValue.flatMap(LogLevel.init(named:))
        let message = pairs.first { messageKeys.contains($0.0) }?.1.stringValue ?? ""
        let fields = pairs.filter { !(timeKeys + levelKeys + messageKeys).contains($0.0) }
        var record = LogRecord(service: service, time: time, level: level, message: message, fields: fields, raw: line)
        record.original = pairs
        return record
    }

    /// `[12345] 2026/12/03 08:00:00.123456 [INF] Server is ready`
    func nats(_ line: String, _ service: String) -> LogRecord? {
        guard line.hasPrefix("["), let close = line.firstIndex(of: "]"), line[line.index(after: line.startIndex)..<close].allSatisfy(\.isNumber) else { return nil }
        let rest = line[line.index(after: close)...].drop { $0 == " " }
        let parts = rest.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
        guard parts.count >= 3, parts[0].count == 10, parts[2].hasPrefix("["), parts[2].hasSuffix("]"),
              let time = LogTime.parseISO(Substring(parts[0].replacingOccurrences(of: "/", with: "-") + "T" + parts[1] + "Z")) else { return nil }
        let level = LogLevel(named: String(parts[2].dropFirst().dropLast()))
        return LogRecord(service: service, time: time, level: level, message: parts.count > 3 ? String(parts[3]) : "", raw: line)
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `12345:M 03 Dec 2026 08:00:00.123 * Ready to accept connections`
    func redis(_ line: String, _ service: String) -> LogRecord? {
        let parts = line.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: false)
        guard parts.count >= 6, let colon = parts[0].firstIndex(of: ":"), parts[0][..<colon].allSatisfy(\.isNumber), !parts[0][..<colon].isEmpty,
              let day = Int(parts[1]), let month = Self.months.firstIndex(of: String(parts[2])), let year = Int(parts[3]) else { return nil }
        let stamp = String(format: "%04d-%02d-%02dT%@Z", year, month + 1, day, String(parts[4]))
        guard let time = LogTime.parseISO(Substring(stamp)) else { return nil }
        let level: LogLevel? = switch parts[5] {
        case ".": .debug
        case "-": .debug
        case "*": .notice
        case "#": .warning
        default: nil
        }
        return LogRecord(service: service, time: time, level: level, message: parts.count > 6 ? String(parts[6]) : "", raw: line)
    }

    /// `2026-12-03 08:00:00.123 UTC [123] LOG:  database system is ready to accept connections`
    /// (log_line_prefix '%m [%p] ', the default).
    func postgres(_ line: String, _ service: String) -> LogRecord? {
        let parts = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].count == 10, parts[3].hasPrefix("["),
              let time = LogTime.parseISO(Substring(parts[0] + "T" + parts[1] + (parts[2] == "UTC" || parts[2] == "GMT" ? "Z" : ""))) else { return nil }
        let body = parts[4]
        guard let colon = body.firstIndex(of: ":"), let level = LogLevel(named: String(body[..<colon])) else {
            return LogRecord(service: service, time: time, level: nil, message: String(body), raw: line)
        }
        return LogRecord(service: service, time: time, level: level, message: String(body[body.index(after: colon)...].drop { $0 == " " }), raw: line)
    }

    /// HAProxy on stderr: `[NOTICE]   (123) : New worker (124) forked`; no time.
    func haproxy(_ line: String, _ service: String) -> LogRecord? {
        guard line.hasPrefix("["), let close = line.firstIndex(of: "]"),
              let level = LogLevel(named: String(line[line.index(after: line.startIndex)..<close])) else { return nil }
        var rest = line[line.index(after: close)...].drop { $0 == " " }
        if rest.hasPrefix("("), let end = rest.firstIndex(of: ")") { rest = rest[rest.index(after: end)...].drop { $0 == " " } }
        if rest.hasPrefix(":") { rest = rest.dropFirst().drop { $0 == " " } }
        return LogRecord(service: service, time: nil, level: level, message: String(rest), raw: line)
    }

    /// `2026-12-03T08:00:00Z info message` (whisper-server's LOG_FORMAT=text, most RFC 3339 loggers).
    func isoLeading(_ line: String, _ service: String) -> LogRecord? {
        guard let first = line.first, first.isNumber, let space = line.firstIndex(of: " "), let time = LogTime.parseISO(line[..<space]) else { return nil }
        var rest = line[line.index(after: space)...]
        var level: LogLevel?
        if let next = rest.firstIndex(of: " "), let named = LogLevel(named: String(rest[..<next]).trimmingCharacters(in: ["[", "]", ":"])) {
            level = named
            rest = rest[rest.index(after: next)...]
        }
        return LogRecord(service: service, time: time, level: level, message: String(rest), raw: line)
    }

    /// `Dec  3 08:00:00 host haproxy[123]: message` (rsyslog's traditional format): no year.
    func syslog(_ line: String, _ service: String) -> LogRecord? {
        let parts = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true)
        guard parts.count == 5, let month = Self.months.firstIndex(of: String(parts[0])), let day = Int(parts[1]), parts[2].count == 8 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let year = calendar.component(.year, from: now)
        let clock = parts[2].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        func date(_ year: Int) -> Date? {
            calendar.date(from: DateComponents(year: year, month: month + 1, day: day, hour: clock[0], minute: clock[1], second: clock[2]))
        }
        guard var time = date(year) else { return nil }
        if time > now.addingTimeInterval(86_400), let earlier = date(year - 1) { time = earlier }
        let body = parts[4]
        let message = body.firstIndex(of: ":").map { body[body.index(after: $0)...].drop { $0 == " " } } ?? body
        return LogRecord(service: service, time: time, level: nil, message: String(message), raw: line)
    }
}
