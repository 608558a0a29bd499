import Foundation

/// A runbook run (or resume) as one operation of the runner: it takes the operations lock once
/// when any step may change something (the steps' own operations inherit it), is confirmed
/// once, audited with its run id and final state, and stops after the current step on Ctrl-C.
public struct RunRunbook: OpsOperation {
    public var engine: RunbookEngine
    public var record: RunbookRunRecord
    public var resuming: Bool

    public init(engine: RunbookEngine, record: RunbookRunRecord, resuming: Bool = false) {
        self.engine = engine
        self.record = record
        self.resuming = resuming
    }

    public var command: String { "runbook" }
    public var action: String { resuming ? "resume" : "run" }
    public var target: String { "\(engine.runbook.name) (run \(record.id))" }

    /// Whether any step may change something: then the run holds the operations lock.
    public var takesLock: Bool { engine.runbook.allSteps.contains { ($0.kind?.effect ?? .read).changes || $0.kind?.effect == .unknown } }

    public func plan(in context: OperationContext) async throws -> OperationPlan {
        let steps = engine.runbook.allSteps.compactMap { step in step.kind.map { "\($0.effect.rawValue) \(step.name) (\($0.rawValue))" } }
        let changes = engine.runbook.allSteps.filter { ($0.kind?.effect ?? .read).changes || $0.kind?.effect == .unknown }.count
        return OperationPlan(
            steps: steps,
            confirmation: changes == 0 ? nil : "\(resuming ? "Resume" : "Run") runbook \(engine.runbook.name) on \(context.inventory.deployment)? \(changes) step\(changes == 1 ? "" : "s") may change the deployment (see 'whisperctl runbook plan').")
    }

    public func check(in context: OperationContext) async throws -> Bool { false }

    public func run(in context: OperationContext) async throws -> RunbookRunRecord {
        await engine.execute(record, interruption: context.interruption)
    }

    public func audit(_ record: RunbookRunRecord) -> OperationRecord {
        let outcome: AuditLog.Entry.Outcome =
            switch record.state {
            case .succeeded, .succeededWithSkips: .succeeded
            case .rejected: .refused(record.reason ?? "rejected")
            case .aborted: .interrupted(record.reason ?? "aborted")
            default: .failed(record.reason ?? record.state.rawValue)
            }
        return OperationRecord(outcome: outcome, details: [("runbook_run", .string(record.id)), ("state", .string(record.state.rawValue))])
    }
}

/// Where runbooks are found: the shipped `runbooks/` (beside the executable's install, or the
/// working tree's) and any directory given.
public enum RunbookLibrary {
    /// Reads, decodes and validates one file: the runbook, or every problem.
    public static func load(_ path: String) throws -> Runbook {
        guard let data = FileManager.default.contents(atPath: path) else { throw OpsError(.invalidInput, "cannot read the runbook", endpoint: path) }
        let (runbook, decodeProblems) = RunbookDecoder.decode(String(decoding: data, as: UTF8.self), path: path)
        var problems = decodeProblems
        if let runbook { problems += RunbookValidator().validate(runbook) }
        problems.sort { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        guard let runbook, problems.isEmpty else { throw RunbookInvalid(problems: problems) }
        return runbook
    }

    /// The runbook files of `directories`, by name.
    public static func files(in directories: [String]) -> [String] {
        directories.flatMap { directory -> [String] in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            return names.filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted().map { (directory as NSString).appendingPathComponent($0) }
        }
    }

    /// A name (`high-memory`) or a path (`./mine.yml`) to a file.
    public static func find(_ reference: String, in directories: [String]) throws -> String {
        if reference.contains("/") || reference.hasSuffix(".yml") || reference.hasSuffix(".yaml") { return reference }
        for path in files(in: directories) {
            let base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            if base == reference { return path }
            if let runbook = try? load(path), runbook.name == reference { return path }
        }
        let names = files(in: directories).map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
        var message = "no runbook '\(reference)' in \(directories.joined(separator: ", "))"
        if let near = closestMatch(to: reference, in: names) { message += " (did you mean '\(near)'?)" }
        throw OpsError(.invalidInput, message + "; see 'whisperctl runbook list'")
    }
}
