import Foundation

/// The running or last rollout of a deployment (`rollout-<deployment>.json` beside the audit
/// log), for `rollout status`. The one definition of that file: written and read here.
public struct RolloutState: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case running, completed, stopped, unsafe
        /// Recorded as running, but its process is gone (killed, or the machine restarted).
        case abandoned
    }

    /// Where one server stands: its last step and what it said.
    public struct ServerProgress: Codable, Sendable, Equatable {
        public var step: String
        public var event: String
        public var message: String
    }

    public var status: Status
    public var pid: Int
    public var startedAt: Date
    public var order: [String]
    public var servers: [String: ServerProgress] = [:]
    var finishedAt: Date?
    public var seconds: Double?
    /// Why it stopped or is unsafe.
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case status, pid, order, servers, seconds, reason
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    public init(order: [String], pid: Int = Int(getpid()), startedAt: Date = Date()) {
        self.status = .running
        self.pid = pid
        self.startedAt = startedAt
        self.order = order
    }

    public static func path(for inventory: Inventory) -> String {
        let directory = (inventory.auditLogPath as NSString).deletingLastPathComponent
        return (directory as NSString).appendingPathComponent("rollout-\(inventory.deployment).json")
    }

    public mutating func record(_ event: RolloutEvent) {
        guard let server = event.server else { return }
        servers[server] = ServerProgress(step: event.step, event: event.kind.rawValue, message: event.message)
    }

    public mutating func finish(_ outcome: RolloutOutcome, seconds: Double, at date: Date = Date()) {
        switch outcome {
        case .completed: (status, reason) = (.completed, nil)
        case .stopped(let why): (status, reason) = (.stopped, why)
        case .unsafe(let why): (status, reason) = (.unsafe, why)
        }
        finishedAt = date
        self.seconds = seconds
    }

    /// A running state whose process no longer exists is abandoned.
    public var checked: RolloutState {
        var state = self
        if status == .running, kill(pid_t(pid), 0) != 0, errno == ESRCH {
            state.status = .abandoned
            state.reason = "its process \(pid) is gone"
        }
        return state
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Writes the state atomically, creating its directory.
    public func write(to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try AtomicFile.write(Array((try json() + "\n").utf8), to: path)
    }

    /// The state at `path`, nil when no rollout was recorded there.
    /// - Throws: `OpsError` naming the file when it exists but cannot be parsed.
    public static func read(from path: String) throws -> RolloutState? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode(RolloutState.self, from: data) } catch {
            throw OpsError(.invalidInput, "unreadable rollout state: \(error)", endpoint: path)
        }
    }
}
