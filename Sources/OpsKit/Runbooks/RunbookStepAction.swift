import Foundation

/// A step kind's operation with its arguments resolved: it says what it would do (a read runs
/// right there, so branches resolve on real findings), does it, and says whether a change whose
/// outcome is unknown is already in place.
protocol RunbookStepAction: Sendable {
    var effect: RunbookEffect { get }
    /// What `run` would do now. Reads run here; nothing that changes anything does.
    func preview(in context: RunbookStepContext) async -> RunbookPreview
    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput
    /// Whether the effect is already in place (nil: this kind cannot tell).
    func check(in context: RunbookStepContext) async throws -> Bool?
}

extension RunbookStepAction {
    func check(in context: RunbookStepContext) async throws -> Bool? { nil }
}

/// What a step may use: the deployment, the nested operations runner (the run's lock, its
/// audit), the operator, the run's interruption.
struct RunbookStepContext: Sendable {
    var inventory: Inventory
    var environment: ProbeEnvironment
    /// Runs the step's operation inside the run: no second lock, the run's interruption.
    var operations: OperationRunner
    var progress: @Sendable (String) -> Void
    var interruption: Interruption
    /// Asks the operator: the question, how long to wait, and whether `--yes` may answer.
    var ask: @Sendable (_ question: String, _ wait: Duration, _ skippable: Bool) async -> RunbookAnswer
    /// When this step was first started (a resumed `backup` counts backups since then).
    var startedAt: Date
    /// The step's time limit (a wait's own; other kinds are stopped by the engine).
    var timeout: Duration
    var whisperctlVersion: String
    /// Evaluates a kind's own expression argument with its names (`value`, `stats`).
    var evaluate: @Sendable (_ argument: String, _ names: [String: RunbookValue]) throws -> RunbookExpression.Outcome
}

/// An operator's answer to a `confirm`.
public struct RunbookAnswer: Sendable, Equatable {
    public enum Kind: String, Sendable { case yes, no, timedOut = "timed out", noTerminal = "no terminal", byFlag = "--yes" }
    public var kind: Kind
    public var by: String

    public init(_ kind: Kind, by: String) {
        self.kind = kind
        self.by = by
    }

    public var approved: Bool { kind == .yes || kind == .byFlag }
}

/// What a step produced.
public struct RunbookStepOutput: Sendable, Equatable {
    public var outputs: [String: RunbookValue]
    /// `diag`'s warning and critical finding ids.
    public var findings: [String]
    /// One line for the progress and the record.
    public var summary: String

    public init(outputs: [String: RunbookValue] = [:], findings: [String] = [], summary: String) {
        self.outputs = outputs
        self.findings = findings
        self.summary = summary
    }
}

/// A plan line's content.
struct RunbookPreview: Sendable {
    var effect: RunbookEffect
    /// The exact effect with the current inventory.
    var description: String
    /// The probed current value and whether the step would pass now.
    var current: String?
    /// A read's result, run during the plan.
    var output: RunbookStepOutput?
    /// Could not be previewed (a probe failed): why.
    var problem: String?
}

/// A step's arguments, rendered.
struct RunbookArguments: Sendable {
    var values: [String: RunbookValue]
    var step: String

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    func string(_ name: String) -> String? {
        guard let value = values[name], value != .null else { return nil }
        return value.text
    }

    func required(_ name: String) throws -> String {
        guard let text = string(name), !text.isEmpty else { throw Missing(description: "step '\(step)': with.\(name) is empty") }
        return text
    }

    func list(_ name: String) -> [String] {
        switch values[name] {
        case .list(let items)?: items.map(\.text)
        case .string(let text)?: text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        default: []
        }
    }

    func duration(_ name: String, default fallback: Duration) throws -> Duration {
        guard let text = string(name) else { return fallback }
        if case .number(let seconds)? = values[name] { return .milliseconds(Int64(seconds * 1000)) }
        guard let duration = Duration(parsing: text), duration > .zero else { throw Missing(description: "step '\(step)': with.\(name) '\(text)' is not a duration") }
        return duration
    }

    /// `true`/`false` (a YAML boolean, or its text); nil when not given.
    func bool(_ name: String) -> Bool? {
        switch values[name] {
        case .bool(let value)?: value
        case .string(let text)?: ["true", "yes", "on"].contains(text.lowercased()) ? true : (["false", "no", "off"].contains(text.lowercased()) ? false : nil)
        default: nil
        }
    }

    func number(_ name: String) throws -> Double? {
        guard let text = string(name) else { return nil }
        guard let number = Double(text) else { throw Missing(description: "step '\(step)': with.\(name) '\(text)' is not a number") }
        return number
    }
}

extension RunbookStepKind {
    /// The operation for a step of this kind.
    func action(_ arguments: RunbookArguments, skippable: Bool = false) -> any RunbookStepAction {
        switch self {
        case .note: NoteStep(arguments: arguments)
        case .confirm: ConfirmStep(arguments: arguments, skippable: skippable)
        case .branch: BranchStep()
        case .shell: ShellStep(arguments: arguments)
        case .status: StatusStep(arguments: arguments)
        case .diag: DiagStep(arguments: arguments)
        case .certCheck: CertificateCheckStep(arguments: arguments)
        case .redisRead: RedisReadStep(arguments: arguments)
        case .pgRead: PostgresReadStep(arguments: arguments)
        case .waitHTTP: HTTPWaitStep(arguments: arguments)
        case .waitMetric: MetricWaitStep(arguments: arguments)
        case .haproxyDrain: HAProxyStateStep(arguments: arguments, state: .drain)
        case .haproxyReady: HAProxyStateStep(arguments: arguments, state: .ready)
        case .haproxyWait: HAProxyWaitStep(arguments: arguments)
        case .backup: BackupStep()
        case .restore: RestoreStep(arguments: arguments)
        case .migrate: MigrateStep(arguments: arguments)
        case .serverRestart: RolloutStep(arguments: arguments, single: true)
        case .rollout: RolloutStep(arguments: arguments, single: false)
        case .certRenew: CertificateRenewStep(arguments: arguments)
        case .loadtest: LoadTestStep(arguments: arguments)
        case .scale: ScaleStep(arguments: arguments)
        }
    }
}

/// A `branch` does its work in the engine: it only chooses.
struct BranchStep: RunbookStepAction {
    var effect: RunbookEffect { .read }
    func preview(in context: RunbookStepContext) async -> RunbookPreview { RunbookPreview(effect: .read, description: "choose the next step") }
    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput { RunbookStepOutput(summary: "chose") }
}

/// `note`: a message, and a runbook's verdict with the guide's fix when it has one.
struct NoteStep: RunbookStepAction {
    var arguments: RunbookArguments
    var effect: RunbookEffect { .read }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        let output = (try? await run(in: context)) ?? RunbookStepOutput(summary: "")
        return RunbookPreview(effect: .read, description: "note: \(output.summary)", output: output)
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        var summary = try arguments.required("message")
        if let verdict = arguments.string("verdict") { summary = "verdict \(verdict.uppercased()): " + summary }
        if let fix = arguments.string("fix") { summary += "; fix: \(fix)" }
        return RunbookStepOutput(outputs: ["verdict": arguments.values["verdict"] ?? .null], summary: summary)
    }
}
