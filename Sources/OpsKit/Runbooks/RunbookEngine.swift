import Foundation

/// Runs a runbook step by step, writing the run record after every transition: a change is
/// recorded as `running` before it is sent, so a crash leaves it *in doubt* rather than
/// forgotten. Resumes skip what succeeded, ask an in-doubt step's operation whether its effect
/// is in place, and repeat a change only when told to.
public struct RunbookEngine: Sendable {
    public var runbook: Runbook
    public var parameters: RunbookParameters
    public var inventory: Inventory
    public var environment: ProbeEnvironment
    public var store: RunbookRunStore
    public var whisperctlVersion: String
    /// Start at this step (earlier ones are skipped and say so).
    public var from: String?
    /// Run only this step.
    public var only: String?
    /// How a resume settles the step that stopped the run.
    public var resolution: Resolution?
    /// Asks the operator (a `confirm`).
    public var ask: @Sendable (_ question: String, _ wait: Duration, _ skippable: Bool) async -> RunbookAnswer
    public var report: @Sendable (Event) -> Void

    public enum Resolution: Sendable, Equatable {
        case retry
        case skip(reason: String)
    }

    public enum Event: Sendable {
        case started(key: String, kind: String, effect: RunbookEffect)
        case finished(RunbookRunRecord.Step)
        case retrying(key: String, attempt: Int, after: Duration, error: String)
        case note(String)
    }

    public init(
        runbook: Runbook, parameters: RunbookParameters, inventory: Inventory, environment: ProbeEnvironment, store: RunbookRunStore,
        whisperctlVersion: String, ask: @escaping @Sendable (String, Duration, Bool) async -> RunbookAnswer, report: @escaping @Sendable (Event) -> Void
    ) {
        self.runbook = runbook
        self.parameters = parameters
        self.inventory = inventory
        self.environment = environment
        self.store = store
        self.whisperctlVersion = whisperctlVersion
        self.ask = ask
        self.report = report
    }

    /// A new record for this runbook, not yet saved.
    public func newRecord(id: String = RunbookRunStore.newID()) -> RunbookRunRecord {
        RunbookRunRecord(
            id: id, runbook: runbook.name, path: runbook.path, text: runbook.text, structure: runbook.structure, parameters: parameters.recorded,
            user: AuditLog.operatorName, host: ProcessInfo.processInfo.hostName, startedAt: Date(), endedAt: nil, state: .running, steps: [],
            approvals: [], resumes: [], owedRollbacks: [], verdict: nil, reason: nil)
    }

    /// Runs (or resumes) `record` to an end: every state honest, the record saved throughout.
    public func execute(_ record: RunbookRunRecord, interruption: Interruption) async -> RunbookRunRecord {
        var execution = Execution(engine: self, record: record, interruption: interruption)
        execution.record.state = .running
        execution.record.endedAt = nil
        execution.scope.load(record)
        execution.save()
        await execution.checkPreconditions()
        if execution.stop == nil { await execution.steps(runbook.steps, suffix: "", loops: [:]) }
        execution.finish()
        return execution.record
    }

    /// Evaluates a kind's expression argument (`condition`, `until`) with the kind's own names.
    static func evaluateArgument(
        _ name: String, of step: Runbook.Step, names: [String: RunbookValue], in scope: RunbookEvaluationScope
    ) throws -> RunbookExpression.Outcome {
        guard case .text(let template)? = step.arguments[name], case .expression(let expression)? = template.parts.first else {
            throw StepCheckFailed(description: "step '\(step.name)': with.\(name) is missing")
        }
        var scope = scope
        for (key, value) in names { scope.extra[key] = value }
        return try scope.evaluate(expression)
    }

    enum Stop {
        case failed(String)
        case rejected(String)
        case aborted(String)
        case timedOut(String)
        case rolledBack(String)
    }

    struct StepTimedOut: Error, CustomStringConvertible {
        var limit: Duration
        var description: String { "did not finish within its timeout (\(limit.humanReadable))" }
    }

    /// One run's progress through the steps.
    struct Execution {
        let engine: RunbookEngine
        var record: RunbookRunRecord
        let interruption: Interruption
        var scope: RunbookEvaluationScope
        var stop: Stop?
        var reachedFrom: Bool
        var continuedFailure = false
        var operatorSkipped = false
        /// Set by a `note` with a verdict: the steps after it are skipped.
        var ended: String?
        /// Each key's step and loop bindings, for the rollbacks a failure may owe.
        var stepsByKey: [String: (step: Runbook.Step, loops: [String: RunbookValue], suffix: String)] = [:]

        init(engine: RunbookEngine, record: RunbookRunRecord, interruption: Interruption) {
            self.engine = engine
            self.record = record
            self.interruption = interruption
            scope = RunbookEvaluationScope(parameters: engine.parameters.values, inventory: engine.inventory)
            reachedFrom = engine.from == nil
        }

        func save() {
            do { try engine.store.save(record) } catch { engine.report(.note("warning: the run record could not be written: \(error)")) }
        }

        mutating func checkPreconditions() async {
            for precondition in engine.runbook.preconditions {
                do {
                    if try scope.truth(precondition.condition) == false {
                        stop = .failed("precondition does not hold: \(precondition.message.isEmpty ? precondition.condition.text : precondition.message)")
                        return
                    }
                } catch {
                    stop = .failed("\(error)")
                    return
                }
            }
        }

        mutating func setStep(_ step: RunbookRunRecord.Step) {
            if let index = record.steps.lastIndex(where: { $0.key == step.key }) { record.steps[index] = step } else { record.steps.append(step) }
            save()
        }

        mutating func skip(_ step: Runbook.Step, key: String, reason: String) {
            var entry = newEntry(step, key: key)
            entry.state = .skipped
            entry.reason = reason
            setStep(entry)
            scope.results[step.name] = .init(state: .skipped, outputs: [:], findings: [])
            engine.report(.finished(entry))
        }

        func newEntry(_ step: Runbook.Step, key: String) -> RunbookRunRecord.Step {
            RunbookRunRecord.Step(
                key: key, name: step.name, kind: step.kind?.rawValue ?? "group", effect: (step.kind?.effect ?? .read).rawValue, state: .pending, attempts: 0,
                startedAt: nil, endedAt: nil, outputs: [:], findings: [], summary: nil, error: nil, reason: nil)
        }

        mutating func steps(_ steps: [Runbook.Step], suffix: String, loops: [String: RunbookValue]) async {
            var skipUntil: (target: String, branch: String)?
            for step in steps {
                guard stop == nil else { return }
                let key = step.name + suffix
                scope.loops = loops
                stepsByKey[key] = (step, loops, suffix)
                if let signal = interruption.signal {
                    stop = .aborted("signal \(signal): stopped before step '\(key)'")
                    return
                }
                if let ended {
                    if record.step(key)?.state != .skipped { skip(step, key: key, reason: ended) }
                    continue
                }
                if let skipping = skipUntil {
                    if step.name != skipping.target {
                        if record.step(key)?.state != .skipped { skip(step, key: key, reason: "branch '\(skipping.branch)' went to '\(skipping.target)'") }
                        continue
                    }
                    skipUntil = nil
                }
                if !reachedFrom, step.name == engine.from { reachedFrom = true }
                if let existing = record.step(key), existing.state == .succeeded || existing.state == .skipped || existing.state == .rolledBack {
                    // Settled by an earlier attempt of this run: never redone.
                    if step.kind == .branch, case .string(let target)? = existing.outputs["chose"] { skipUntil = (target, step.name) }
                    if step.kind == .note, existing.state == .succeeded, existing.outputs["verdict"].map({ $0 != .null }) == true {
                        ended = "the verdict of '\(key)' ends the runbook"
                    }
                    if step.forEach == nil { continue }
                }
                do {
                    if let when = step.when, try scope.truth(when) != true {
                        skip(step, key: key, reason: "when: \(when.text) is false")
                        continue
                    }
                    if let loop = step.forEach {
                        let items: [RunbookValue] =
                            switch try scope.evaluate(loop) {
                            case .known(.list(let items)): items
                            case .known(let one): [one]
                            case .unknown(let reason): throw StepCheckFailed(description: "for_each \(loop.text) is \(reason)")
                            }
                        for item in items {
                            var inner = loops
                            inner[step.loopName] = item
                            await self.steps(step.steps, suffix: suffix + "[\(item.text)]", loops: inner)
                            if stop != nil { return }
                        }
                        continue
                    }
                    if !reachedFrom {
                        operatorSkipped = true
                        skip(step, key: key, reason: "before --from \(engine.from ?? "")")
                        continue
                    }
                    if let only = engine.only, step.name != only {
                        operatorSkipped = true
                        skip(step, key: key, reason: "--only \(only)")
                        continue
                    }
                    guard let kind = step.kind else { continue }
                    if kind == .branch {
                        let target = try choose(step)
                        var entry = newEntry(step, key: key)
                        entry.state = .succeeded
                        entry.outputs = ["chose": .string(target)]
                        entry.summary = "goes to \(target)"
                        entry.startedAt = Date()
                        entry.endedAt = entry.startedAt
                        setStep(entry)
                        scope.results[step.name] = .init(state: .succeeded, outputs: entry.outputs, findings: [])
                        engine.report(.finished(entry))
                        skipUntil = (target, step.name)
                        continue
                    }
                    await run(step, kind: kind, key: key)
                } catch {
                    var entry = record.step(key) ?? newEntry(step, key: key)
                    entry.state = .failed
                    entry.error = SecretRegistry.shared.scrub("\(error)")
                    setStep(entry)
                    engine.report(.finished(entry))
                    stop = .failed("step '\(key)': \(error)")
                }
            }
        }

        func choose(_ step: Runbook.Step) throws -> String {
            for choice in step.choices where try scope.truth(choice.when) == true { return choice.target.value }
            return step.defaultTarget?.value ?? ""
        }

        func context(_ step: Runbook.Step, startedAt: Date, timeout: Duration) -> RunbookStepContext {
            var operations = OperationRunner(inventory: engine.inventory)
            operations.enclosingRun = EnclosingRun(id: record.id, interruption: interruption)
            let report = engine.report
            operations.progress = { line in report(.note(line)) }
            let captured = scope
            return RunbookStepContext(
                inventory: engine.inventory, environment: engine.environment, operations: operations, progress: operations.progress,
                interruption: interruption, ask: engine.ask, startedAt: startedAt, timeout: timeout, whisperctlVersion: engine.whisperctlVersion,
                evaluate: { name, names in try RunbookEngine.evaluateArgument(name, of: step, names: names, in: captured) })
        }

        /// How long a step may take: its `timeout`, else a wait's 5 minutes, a confirm's wait,
        /// an hour for the rest (a backup of a large database).
        func limit(_ step: Runbook.Step, kind: RunbookStepKind, arguments: RunbookArguments) -> Duration {
            if let timeout = step.timeout { return timeout }
            switch kind.effect {
            case .wait: return .seconds(300)
            case .gate: return ((try? arguments.duration("wait", default: .seconds(600))) ?? .seconds(600)) + .seconds(5)
            default: return .seconds(3600)
            }
        }

        mutating func run(_ step: Runbook.Step, kind: RunbookStepKind, key: String) async {
            let arguments: RunbookArguments
            do { arguments = try scope.arguments(of: step).0 } catch {
                stop = .failed("step '\(key)': \(error)")
                return
            }
            let action = kind.action(arguments, skippable: step.skippable)
            let effect = action.effect
            var entry = record.step(key) ?? newEntry(step, key: key)
            entry.effect = effect.rawValue
            let timeout = limit(step, kind: kind, arguments: arguments)
            if let settled = await settle(&entry, step: step, action: action, key: key, timeout: timeout) {
                if !settled { return }
                setStep(entry)
                succeeded(entry, step: step, output: nil)
                return
            }
            engine.report(.started(key: key, kind: kind.rawValue, effect: effect))
            while true {
                entry.state = .running
                entry.attempts += 1
                entry.startedAt = entry.startedAt ?? Date()
                entry.error = nil
                // Written before the change is sent: a crash from here on leaves it in doubt.
                setStep(entry)
                let context = context(step, startedAt: entry.startedAt!, timeout: kind.effect == .wait ? timeout : timeout)
                do {
                    let output = try await Self.bounded(kind.effect == .wait ? timeout + .seconds(10) : timeout) { try await action.run(in: context) }
                    entry.state = .succeeded
                    entry.outputs = output.outputs
                    entry.findings = output.findings
                    entry.summary = SecretRegistry.shared.scrub(output.summary)
                    entry.endedAt = Date()
                    if kind == .confirm, case .string(let by)? = output.outputs["by"], case .string(let answer)? = output.outputs["answer"] {
                        record.approvals.append(.init(step: key, answer: answer, by: by, at: Date()))
                    }
                    if kind == .note, case .string(let verdict)? = output.outputs["verdict"] {
                        // The note's summary already leads with its verdict; the record's says it once.
                        let summary = entry.summary ?? ""
                        let lead = "verdict \(verdict.uppercased()): "
                        record.verdict = "\(verdict): " + (summary.hasPrefix(lead) ? String(summary.dropFirst(lead.count)) : summary)
                        ended = "the verdict of '\(key)' ends the runbook"
                    }
                    setStep(entry)
                    succeeded(entry, step: step, output: output)
                    if !step.rollback.isEmpty {
                        record.owedRollbacks.append(key)
                        save()
                    }
                    return
                } catch let rejected as ConfirmRejected {
                    entry.state = .failed
                    entry.error = rejected.description
                    entry.endedAt = Date()
                    record.approvals.append(.init(step: key, answer: rejected.answer.kind.rawValue, by: rejected.answer.by, at: Date()))
                    setStep(entry)
                    engine.report(.finished(entry))
                    stop = .rejected("step '\(key)': \(rejected)")
                    return
                } catch {
                    let message = SecretRegistry.shared.scrub("\(error)")
                    let changes = effect.changes || effect == .unknown
                    entry.endedAt = Date()
                    entry.error = message
                    if let signal = interruption.signal {
                        entry.state = changes ? .inDoubt : .failed
                        setStep(entry)
                        engine.report(.finished(entry))
                        stop = .aborted("signal \(signal) during step '\(key)'" + (changes ? ": its change is in doubt; resume checks it" : ""))
                        return
                    }
                    if error is StepTimedOut, changes {
                        entry.state = .inDoubt
                        setStep(entry)
                        engine.report(.finished(entry))
                        stop = .timedOut("step '\(key)' \(message): its change is in doubt; resume checks it")
                        return
                    }
                    if entry.attempts <= step.retries {
                        let wait = step.backoff * Int(pow(2.0, Double(entry.attempts - 1)))
                        engine.report(.retrying(key: key, attempt: entry.attempts, after: wait, error: message))
                        try? await Task.sleep(for: wait)
                        continue
                    }
                    entry.state = .failed
                    setStep(entry)
                    engine.report(.finished(entry))
                    scope.results[step.name] = .init(state: .failed, outputs: [:], findings: [])
                    switch step.onFailure {
                    case .continue:
                        continuedFailure = true
                    case .stop:
                        stop = error is StepTimedOut ? .timedOut("step '\(key)' \(message)") : .failed("step '\(key)': \(message)")
                    case .rollback:
                        await rollBack(failed: key, step: step, because: message)
                    }
                    return
                }
            }
        }

        mutating func succeeded(_ entry: RunbookRunRecord.Step, step: Runbook.Step, output: RunbookStepOutput?) {
            let duration = entry.startedAt.flatMap { start in entry.endedAt.map { $0.timeIntervalSince(start) } }
            scope.results[step.name] = .init(state: entry.state, outputs: entry.outputs, findings: entry.findings, duration: duration)
            engine.report(.finished(entry))
        }

        /// The step that stopped an earlier attempt of this run. Returns nil to run it, true when
        /// settled without running (already in place, skipped), false when the run must stop.
        mutating func settle(_ entry: inout RunbookRunRecord.Step, step: Runbook.Step, action: any RunbookStepAction, key: String, timeout: Duration) async -> Bool? {
            guard [.running, .inDoubt, .failed].contains(entry.state) else { return nil }
            let harmless = !(action.effect.changes || action.effect == .unknown)
            if case .skip(let reason)? = engine.resolution {
                entry.state = .skipped
                entry.reason = "skipped on resume by \(AuditLog.operatorName): \(reason)"
                operatorSkipped = true
                record.resumes.append(.init(at: Date(), by: AuditLog.operatorName, how: "skip-step \(key): \(reason)"))
                return true
            }
            if entry.state == .failed {
                if harmless || engine.resolution == .retry { return nil }
                stop = .failed("step '\(key)' failed earlier (\(entry.error ?? "")): resume with --retry-step to run it again, or --skip-step --reason TEXT")
                return false
            }
            // In doubt: the change may have happened. Ask its operation, never repeat blindly.
            if harmless { return nil }
            entry.state = .inDoubt
            let checked: Bool?
            do {
                checked = try await action.check(in: context(step, startedAt: entry.startedAt ?? Date(), timeout: timeout))
            } catch {
                stop = .failed("step '\(key)' is in doubt and its check failed: \(error); resume again, or --retry-step / --skip-step --reason TEXT")
                return false
            }
            switch checked {
            case true?:
                entry.state = .succeeded
                entry.endedAt = Date()
                entry.reason = "in doubt; on resume its check found the effect in place: not repeated"
                record.resumes.append(.init(at: Date(), by: AuditLog.operatorName, how: "checked \(key): in place"))
                if !step.rollback.isEmpty { record.owedRollbacks.append(key) }
                return true
            case false?:
                record.resumes.append(.init(at: Date(), by: AuditLog.operatorName, how: "checked \(key): not in place"))
                if engine.resolution == .retry { return nil }
                stop = .failed("step '\(key)' was in doubt; its check says the effect is not in place: resume with --retry-step to run it, or --skip-step --reason TEXT")
                return false
            case nil:
                if engine.resolution == .retry { return nil }
                stop = .failed("step '\(key)' is in doubt and a \(entry.kind) step cannot check its effect: resume with --retry-step to run it again, or --skip-step --reason TEXT")
                return false
            }
        }

        /// Runs the rollbacks owed, newest first (the failed step's own first).
        mutating func rollBack(failed key: String, step: Runbook.Step, because message: String) async {
            var owed = record.owedRollbacks.reversed().map { $0 }
            if !step.rollback.isEmpty { owed.insert(key, at: 0) }
            engine.report(.note("step '\(key)' failed: rolling back \(owed.joined(separator: ", "))"))
            for owner in owed {
                guard let (ownerStep, loops, suffix) = stepsByKey[owner] else { continue }
                scope.loops = loops
                for rollback in ownerStep.rollback {
                    guard let kind = rollback.kind else { continue }
                    let rollbackKey = rollback.name + suffix
                    await run(rollback, kind: kind, key: rollbackKey)
                    if let stopped = stop {
                        stop = .failed("step '\(key)' failed (\(message)) and its rollback '\(rollbackKey)' did not finish: \(stopped)")
                        return
                    }
                    if record.step(rollbackKey)?.state == .failed {
                        stop = .failed("step '\(key)' failed (\(message)) and its rollback '\(rollbackKey)' failed too")
                        return
                    }
                }
                if var entry = record.step(owner), owner != key {
                    entry.state = .rolledBack
                    setStep(entry)
                }
                record.owedRollbacks.removeAll { $0 == owner }
            }
            save()
            stop = .rolledBack("step '\(key)' failed: \(message); rolled back \(owed.joined(separator: ", "))")
        }

        mutating func finish() {
            record.endedAt = Date()
            switch stop {
            case nil:
                record.state = continuedFailure ? .failed : (operatorSkipped ? .succeededWithSkips : .succeeded)
                record.reason = continuedFailure ? "a step failed (on_failure: continue)" : nil
            case .failed(let reason)?: (record.state, record.reason) = (.failed, reason)
            case .rejected(let reason)?: (record.state, record.reason) = (.rejected, reason)
            case .aborted(let reason)?: (record.state, record.reason) = (.aborted, reason)
            case .timedOut(let reason)?: (record.state, record.reason) = (.timedOut, reason)
            case .rolledBack(let reason)?: (record.state, record.reason) = (.failedAndRolledBack, reason)
            }
            record.reason = record.reason.map(SecretRegistry.shared.scrub)
            save()
        }

        /// Runs `body`, or throws `StepTimedOut` once `limit` has passed (the body is cancelled).
        static func bounded<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
            try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else { throw StepTimedOut(limit: limit) }
                return value
            }
        }
    }
}
