import Foundation

/// How a rollout runs: which servers, how many at once, and the gates' bounds.
public struct RolloutOptions: Sendable {
    public var only: [String] = []
    public var maxUnavailable = 1
    public var startWithUnhealthy = false
    /// How long a drained server may take to lose its clients and exit (past its DRAIN_TIMEOUT).
    public var drainTimeout: Duration = .seconds(60)
    public var readyTimeout: Duration = .seconds(60)
    public var expectVersion: String?
    public var soak: Duration = .seconds(10)
    /// Accept a soak that saw no traffic (a fleet without users) instead of stopping.
    public var acceptIdleSoak = false
    /// The performance playbook's threshold for the 10K tier.
    public var maxP99: Duration = .milliseconds(100)
    public var maxErrorRate = 0.01
    public var autoRollback = false
    public var poll: Duration = .milliseconds(250)

    public init() {}
}

/// One line of a rollout's story: printed on a terminal, one JSON object per line with `--json`.
public struct RolloutEvent: Sendable {
    public enum Kind: String, Sendable {
        case info, step, progress, done, failed, warning
    }

    public var at = Date()
    public var kind: Kind
    public var server: String?
    public var step: String
    public var message: String
    public var data: [(String, JSONValue)] = []

    public init(_ kind: Kind, server: String? = nil, step: String, _ message: String, data: [(String, JSONValue)] = []) {
        self.kind = kind
        self.server = server
        self.step = step
        self.message = message
        self.data = data
    }

    public var json: JSONValue {
        var fields: [(String, JSONValue)] = [
            ("time", .string(ISO8601DateFormatter().string(from: at))), ("event", .string(kind.rawValue)),
            ("server", server.map(JSONValue.string) ?? .null), ("step", .string(step)), ("message", .string(message)),
        ]
        fields += data
        return .object(fields)
    }
}

/// How a rollout ended, which decides the exit status.
public enum RolloutOutcome: Sendable, Equatable {
    /// Every server updated and soaked.
    case completed
    /// A gate, a failed preflight or Ctrl-C stopped it with every server that was serving, serving.
    case stopped(String)
    /// Something is left not serving that was (the message says what): must never happen.
    case unsafe(String)

    public var exitCode: Int32 {
        switch self {
        case .completed: 0
        case .stopped: 1
        case .unsafe: 2
        }
    }
}

/// The preflight's answer: the servers in the order they will be updated, and what is wrong.
public struct RolloutPreflight: Sendable {
    public var order: [String]
    public var observations: [ServerObservation]
    public var problems: [String]
    public var notes: [String]
    /// What each server's driver would run, for the dry run.
    public var commands: [String: [String]] = [:]

    public var passed: Bool { problems.isEmpty }
}
