import Foundation

/// Everything about one run of a runbook, written after every step's transition: a copy of the
/// runbook, the parameters (secrets as references), each step's state, outputs (masked),
/// findings, approvals and resumes, the rollbacks owed. A step that was `running` when the
/// process died is *in doubt*: its change may or may not have happened.
public struct RunbookRunRecord: Codable, Sendable {
    public var id: String
    public var runbook: String
    public var path: String
    /// The runbook as it was when the run started; a resume compares its structure.
    public var text: String
    public var structure: String
    public var parameters: [String: String]
    public var user: String
    public var host: String
    public var startedAt: Date
    public var endedAt: Date?
    public var state: State
    public var steps: [Step]
    public var approvals: [Approval]
    public var resumes: [Resume]
    /// Steps whose rollback a later failure owes, in the order they succeeded.
    public var owedRollbacks: [String]
    /// The last `note` verdict (`warning: ...; fix: ...`).
    public var verdict: String?
    /// Why the run ended as it did.
    public var reason: String?

    public enum State: String, Codable, Sendable {
        case running
        case succeeded
        case succeededWithSkips = "succeeded with skips"
        case failed
        case failedAndRolledBack = "failed and rolled back"
        case aborted
        case rejected
        case timedOut = "timed out"

        public var isFinal: Bool { self != .running }
        /// 0 succeeded; 1 rejected or aborted (nothing more was changed); 2 failed.
        public var exitCode: Int32 {
            switch self {
            case .succeeded, .succeededWithSkips: 0
            case .rejected, .aborted: 1
            case .running, .failed, .failedAndRolledBack, .timedOut: 2
            }
        }
    }

    public struct Step: Codable, Sendable {
        public enum State: String, Codable, Sendable {
            case pending
            case running
            /// Sent, outcome unknown (a crash, Ctrl-C or a timeout in the middle).
            case inDoubt = "in doubt"
            case succeeded
            case failed
            case skipped
            case rolledBack = "rolled back"
        }
        /// `name`, or `name[item]` inside a for_each.
        public var key: String
        public var name: String
        public var kind: String
        public var effect: String
        public var state: State
        public var attempts: Int
        public var startedAt: Date?
        public var endedAt: Date?
        public var outputs: [String: RunbookValue]
        public var findings: [String]
        public var summary: String?
        public var error: String?
        /// Why it was skipped, or how a resume settled it.
        public var reason: String?
    }

    public struct Approval: Codable, Sendable {
        public var step: String
        public var answer: String
        public var by: String
        public var at: Date
    }

    public struct Resume: Codable, Sendable {
        public var at: Date
        public var by: String
        /// "retry-step", "skip-step: REASON", "checked: in place", "accept-changed".
        public var how: String

        public init(at: Date, by: String, how: String) {
            self.at = at
            self.by = by
            self.how = how
        }
    }

    public func step(_ key: String) -> Step? { steps.last { $0.key == key } }

    public var duration: TimeInterval? { endedAt.map { $0.timeIntervalSince(startedAt) } }
}

extension RunbookValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else {
            self = .list(try container.decode([RunbookValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .number(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        case .list(let items): try container.encode(items)
        }
    }
}

/// Run records, one JSON file each (mode 0600), written atomically: `runs/` beside the audit log.
public struct RunbookRunStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public init(inventory: Inventory) {
        directory = ((inventory.auditLogPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("runs")
    }

    func path(_ id: String) -> String { (directory as NSString).appendingPathComponent("\(id).json") }

    public static func newID(now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: now) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }

    /// Writes the record; secrets in outputs and errors are masked before anything reaches disk.
    public func save(_ record: RunbookRunRecord) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let text = try RunbookJSON.text(record)
        try AtomicFile.write(Array((text + "\n").utf8), to: path(record.id), mode: 0o600)
    }

    /// - Throws: `OpsError` naming the file when the run does not exist or cannot be read.
    public func load(_ id: String) throws -> RunbookRunRecord {
        guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), !id.isEmpty else {
            throw OpsError(.invalidInput, "'\(id)' is not a run id (see 'whisperctl runbook runs')")
        }
        guard let data = FileManager.default.contents(atPath: path(id)) else {
            throw OpsError(.invalidInput, "no run \(id) (see 'whisperctl runbook runs')", endpoint: path(id))
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(RunbookRunRecord.self, from: data)
        } catch {
            throw OpsError(.protocolError, "the run record cannot be read: \(error)", endpoint: path(id))
        }
    }

    /// Every run, newest first; unreadable files are reported, not hidden.
    public func list() throws -> (runs: [RunbookRunRecord], unreadable: [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return ([], []) }
        var runs: [RunbookRunRecord] = []
        var unreadable: [String] = []
        for name in names where name.hasSuffix(".json") {
            do { runs.append(try load(String(name.dropLast(5)))) } catch { unreadable.append("\(name): \(error)") }
        }
        return (runs.sorted { $0.startedAt > $1.startedAt }, unreadable)
    }
}

/// How runbook records, histories and plans are written as JSON: sorted, indented, ISO 8601
/// dates, secrets masked. One place, so a record on disk and `--json` on screen agree.
public enum RunbookJSON {
    public static func text(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return SecretRegistry.shared.scrub(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
