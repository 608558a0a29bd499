import Foundation

/// Every mutation whisperctl performs, one JSON object per line: who, when, where from, what, on
/// what, and how it ended. Appended with one `write` on a file opened `O_APPEND` and synced, so
/// concurrent writers never interleave lines and an entry survives a crash right after it.
///
/// The lines form a hash chain: each carries `prev`, the SHA-256 of the line before it (of the
/// empty string for the first), so an edited, removed or inserted line breaks the chain at the
/// line after it (`AuditLogVerification`). Writers hold an exclusive `flock` while they read the
/// last line and append theirs, so two writers never chain to the same line.
public struct AuditLog: Sendable {
    public struct Entry: Sendable {
        public var command: String
        public var action: String
        public var target: String
        public var outcome: Outcome
        var details: [(String, JSONValue)]

        public enum Outcome: Sendable, Equatable {
            case succeeded
            case failed(String)
            case refused(String)
            /// A signal stopped it at a safe point.
            case interrupted(String)
        }

        public init(command: String, action: String, target: String, outcome: Outcome, details: [(String, JSONValue)] = []) {
            self.command = command
            self.action = action
            self.target = target
            self.outcome = outcome
            self.details = details
        }
    }

    /// One line of the log as readers see it (details beyond these fields are kept in the
    /// line and skipped here). Its keys are the ones `line(for:)` writes.
    public struct Record: Codable, Sendable, Equatable {
        public var time: String
        public var user: String
        public var host: String
        public var pid: Int
        public var deployment: String
        public var command: String
        public var action: String
        public var target: String
        /// "ok", "failed", "refused" or "interrupted".
        public var result: String
        public var error: String?
        /// The runbook run it was part of.
        public var runbookRun: String?
        /// The SHA-256 (hex) of the line before; nil on lines written before the log was chained.
        public var prev: String?
        /// The whole line as written, details included.
        public var line = ""
        /// Its line number in the file, from 1.
        public var number = 0

        enum CodingKeys: String, CodingKey {
            case time, user, host, pid, deployment, command, action, target, result, error, prev
            case runbookRun = "runbook_run"
        }
        typealias Key = CodingKeys
    }

    public let path: String
    public var deployment: String

    public init(path: String, deployment: String) {
        self.path = path
        self.deployment = deployment
    }

    /// `$XDG_STATE_HOME/whisperctl/audit.log`, or `~/.local/state/whisperctl/audit.log`.
    static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".local/state")
        return (state as NSString).appendingPathComponent("whisperctl/audit.log")
    }

    /// Who runs whisperctl: the login name behind sudo when there is one.
    public static var operatorName: String {
        let environment = ProcessInfo.processInfo.environment
        if let sudo = environment["SUDO_USER"], !sudo.isEmpty { return sudo }
        if let name = getlogin().map({ String(cString: $0) }), !name.isEmpty { return name }
        if let user = environment["USER"] ?? environment["LOGNAME"], !user.isEmpty { return user }
        // No login and no USER (cron, a container): the account's name, not its number.
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }

    /// The `prev` of a log's first line.
    public static let chainStart = Digest.sha256Hex("")

    /// The line an entry becomes, chained to `previous` (the line before it, without its newline);
    /// secrets are scrubbed.
    public func line(for entry: Entry, at date: Date = Date(), after previous: String = "") -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        typealias Key = Record.Key
        var fields: [(String, JSONValue)] = [
            (Key.time.stringValue, .string(formatter.string(from: date))), (Key.user.stringValue, .string(AuditLog.operatorName)),
            (Key.host.stringValue, .string(ProcessInfo.processInfo.hostName)), (Key.pid.stringValue, .int(Int(getpid()))),
            (Key.deployment.stringValue, .string(deployment)), (Key.command.stringValue, .string(entry.command)),
            (Key.action.stringValue, .string(entry.action)), (Key.target.stringValue, .string(entry.target)),
        ]
        let (result, reason): (String, String?) =
            switch entry.outcome {
            case .succeeded: ("ok", nil)
            case .failed(let reason): ("failed", reason)
            case .refused(let reason): ("refused", reason)
            case .interrupted(let reason): ("interrupted", reason)
            }
        fields.append((Key.result.stringValue, .string(result)))
        if let reason { fields.append((Key.error.stringValue, .string(reason))) }
        fields += entry.details
        fields.append((Key.prev.stringValue, .string(Digest.sha256Hex(previous))))
        return SecretRegistry.shared.scrub(JSONValue.object(fields).serialized())
    }

    /// Appends `entry`, creating the file (mode 0600) and its directory when missing.
    /// - Throws: `OpsError` naming the file when it cannot be written: a mutation that cannot be
    ///   recorded is reported, never silently unlogged.
    public func record(_ entry: Entry) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            // A directory that cannot be made fails the open below, which names the file.
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        // Read as well as appended to: the last line is what the new one chains to.
        let descriptor = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw OpsError(.io, "cannot open the audit log: \(String(cString: strerror(errno)))", endpoint: path)
        }
        defer { close(descriptor) }
        // Released by close(): a writer that dies holding it releases it too.
        guard flock(descriptor, LOCK_EX) == 0 else {
            throw OpsError(.io, "cannot lock the audit log: \(String(cString: strerror(errno)))", endpoint: path)
        }
        let previous = try Self.lastLine(of: descriptor, path: path)
        let bytes = Array((line(for: entry, after: previous) + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw OpsError(.io, "cannot append to the audit log: \(written < 0 ? String(cString: strerror(errno)) : "short write")", endpoint: path)
        }
        fsync(descriptor)
    }

    /// The file's last line, without its newline ("" for an empty file): read backwards in
    /// blocks, so a long log costs no more than a short one. A torn last line (no newline) is
    /// the line the next one chains to, as `--verify` reads the file.
    static func lastLine(of descriptor: Int32, path: String) throws -> String {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw OpsError(.io, "cannot read the audit log's size", endpoint: path) }
        var end = Int64(info.st_size)
        var tail: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 4096)
        let newline = UInt8(ascii: "\n")
        while end > 0 {
            let start = max(0, end - Int64(block.count))
            let count = Int(end - start)
            let read = block.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(start)) }
            guard read == count else { throw OpsError(.io, "cannot read the audit log's last line", endpoint: path) }
            tail = Array(block[0..<count]) + tail
            end = start
            let line = tail.last == newline ? tail.dropLast() : tail[...]
            if let before = line.lastIndex(of: newline) { return String(decoding: line[(before + 1)...], as: UTF8.self) }
        }
        return String(decoding: tail.last == newline ? tail.dropLast() : tail[...], as: UTF8.self)
    }

    /// Every line of the log that parses, oldest first; an unreadable line is skipped (the log
    /// is append-only, so a torn last line is the only kind a crash leaves).
    /// - Throws: `OpsError` naming the file when it exists and cannot be read.
    public func records() throws -> [Record] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OpsError(.io, "cannot read the audit log", endpoint: path)
        }
        let decoder = JSONDecoder()
        return data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated().compactMap { index, bytes in
            guard var record = try? decoder.decode(Record.self, from: Data(bytes)) else { return nil }
            record.line = String(decoding: bytes, as: UTF8.self)
            record.number = index + 1
            return record
        }
    }
}
