import ArgumentParser
import Foundation
import OpsKit

struct RunbookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runbook",
        abstract: "Declarative procedures: list, show, validate, plan (the honest dry run), run, resume, runs.",
        discussion: """
            Runbooks are YAML files in the shipped runbooks/ directory, runbooks/ beside the inventory, the inventory's runbooks.dirs, and --dir. \
            See docs/runbooks.md for the format and every step kind.

            Examples:
              whisperctl runbook list
              whisperctl runbook plan first-deployment
              whisperctl runbook run high-memory --param server=ws1
              whisperctl runbook resume 20261202-101500-1a2b --retry-step
            """,
        subcommands: [RunbookList.self, RunbookShow.self, RunbookValidate.self, RunbookPlanCommand.self, RunbookRun.self, RunbookResume.self, RunbookRuns.self]
    )
}

struct RunbookDirectories: ParsableArguments {
    @Option(name: .customLong("dir"), help: ArgumentHelp("Another directory of runbooks; repeat it.", valueName: "path"), completion: .directory)
    var directories: [String] = []

    /// --dir, then the inventory's runbooks.dirs, then runbooks/ beside the inventory, then the
    /// shipped ones (installed beside the binary in share/whisperctl/runbooks, or the source
    /// tree's runbooks/). A name is looked for in that order: a deployment's own runbook of the
    /// same name comes before the shipped one.
    func all(_ inventory: Inventory) -> [String] {
        Self.all(inventory, given: directories)
    }

    static func all(_ inventory: Inventory, given directories: [String]) -> [String] {
        var found = directories + inventory.runbookDirectories
        found.append(inventory.resolve("runbooks"))
        var directory = (ThisExecutable.path as NSString).deletingLastPathComponent
        found.append(((directory as NSString).deletingLastPathComponent as NSString).appendingPathComponent("share/whisperctl/runbooks"))
        for _ in 0..<5 {
            let candidate = (directory as NSString).appendingPathComponent("runbooks")
            if FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("Package.swift")) { found.append(candidate) }
            directory = (directory as NSString).deletingLastPathComponent
        }
        var seen = Set<String>()
        return found.filter { FileManager.default.fileExists(atPath: $0) && seen.insert(($0 as NSString).standardizingPath).inserted }
    }
}

/// Loads a runbook by name or path, printing every problem (file:line:column) when invalid.
private func loadRunbook(_ reference: String, directories: [String], command: String) throws -> Runbook {
    do {
        return try RunbookLibrary.load(try RunbookLibrary.find(reference, in: directories))
    } catch let invalid as RunbookInvalid {
        printError(invalid.description)
        printError("whisperctl runbook \(command): \(invalid.problems.count) problem\(invalid.problems.count == 1 ? "" : "s"); nothing was run")
        throw ExitStatus.failed
    } catch {
        printError("whisperctl runbook \(command): \(error)")
        throw ExitStatus.failed
    }
}

private func parseParameters(_ pairs: [String]) throws -> [String: String] {
    var given: [String: String] = [:]
    for pair in pairs {
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else { throw ValidationError("--param takes NAME=VALUE, not '\(pair)'") }
        given[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
    }
    return given
}

private func resolveParameters(_ runbook: Runbook, _ pairs: [String], _ inventory: Inventory, command: String) throws -> RunbookParameters {
    do {
        return try RunbookParameters.resolve(runbook, given: try parseParameters(pairs), inventory: inventory)
    } catch let invalid as RunbookParameters.Invalid {
        printError(invalid.problems.map { "whisperctl runbook \(command): \($0)" }.joined(separator: "\n"))
        throw ExitCode(64)
    }
}

struct RunbookList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The runbooks found, with their descriptions.")
    @OptionGroup var inventory: InventoryOptions
    @OptionGroup var runbooks: RunbookDirectories
    @Flag(help: "JSON output.") var json = false

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        var rows: [[String]] = []
        var objects: [JSONValue] = []
        var broken = 0
        for path in RunbookLibrary.files(in: runbooks.all(deployment)) {
            do {
                let runbook = try RunbookLibrary.load(path)
                rows.append([runbook.name, String(runbook.description.split(separator: "\n").first ?? ""), path])
                objects.append(.object([("name", .string(runbook.name)), ("description", .string(runbook.description)), ("path", .string(path))]))
            } catch {
                broken += 1
                printError("\(path): invalid (see 'whisperctl runbook validate \(path)')")
            }
        }
        if json {
            print(JSONValue.array(objects).prettyPrinted())
        } else {
            print(Table(headers: ["NAME", "DESCRIPTION", "FILE"], rows: rows).render())
        }
        if broken > 0 { throw ExitStatus.failed }
    }
}

struct RunbookShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "A runbook's parameters and steps.")
    @OptionGroup var inventory: InventoryOptions
    @OptionGroup var runbooks: RunbookDirectories
    @Argument(help: "A runbook's name or file.", completion: .custom { words, _, _ in Completions.runbookNames(words) }) var runbook: String

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: false)
        let book = try loadRunbook(runbook, directories: runbooks.all(deployment), command: "show")
        var lines = ["\(book.name): \(book.description)", "file: \(book.path)"]
        if !book.parameters.isEmpty {
            lines.append("parameters:")
            for parameter in book.parameters {
                var line = "  \(parameter.name) (\(parameter.kind.rawValue))"
                if let value = parameter.defaultValue { line += " default \(value)" } else if parameter.kind != .secret { line += " required" }
                if let from = parameter.from { line += " from \(from)" }
                if !parameter.description.isEmpty { line += ": \(parameter.description)" }
                lines.append(line)
            }
        }
        lines.append("steps:")
        lines.append(book.structure.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        print(lines.joined(separator: "\n"))
    }
}

struct RunbookValidate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Checks runbook files: every problem at file:line:column, all at once. Exit 0 valid, 2 problems.")
    @Argument(help: "Runbook files.", completion: .file(extensions: ["yml", "yaml"])) var files: [String]

    func validate() throws { if files.isEmpty { throw ValidationError("name one or more runbook files") } }

    func run() async throws {
        var problems = 0
        for file in files {
            do {
                let runbook = try RunbookLibrary.load(file)
                print("\(file): ok (\(runbook.name), \(runbook.allSteps.count) steps)")
            } catch let invalid as RunbookInvalid {
                problems += invalid.problems.count
                print(invalid.description)
            } catch {
                problems += 1
                print("\(file): \(error)")
            }
        }
        if problems > 0 {
            printError("\(problems) problem\(problems == 1 ? "" : "s")")
            throw ExitStatus.failed
        }
    }
}

struct RunbookPlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "The honest dry run: each step's effect class and exact effect; reads run now, changes never.",
        discussion: "Exit status: 0 read only, 2 changes, 3 steps that cannot be previewed (shell, a failed probe), 1 error or a precondition that does not hold.")
    @OptionGroup var inventory: InventoryOptions
    @OptionGroup var runbooks: RunbookDirectories
    @Argument(help: "A runbook's name or file.", completion: .custom { words, _, _ in Completions.runbookNames(words) }) var runbook: String
    @Option(name: .customLong("param"), help: ArgumentHelp("A parameter as NAME=VALUE; repeat it.", valueName: "name=value")) var parameters: [String] = []
    @Option(help: ArgumentHelp("Save the plan (for 'runbook run --plan').", valueName: "file")) var out: String?
    @Flag(help: "JSON output.") var json = false

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let book = try loadRunbook(runbook, directories: runbooks.all(deployment), command: "plan")
        let values = try resolveParameters(book, parameters, deployment, command: "plan")
        let plan: RunbookPlan
        do {
            plan = try await RunbookPlanner(runbook: book, parameters: values, inventory: deployment, environment: ProbeEnvironment(), whisperctlVersion: WhisperctlVersion.current).plan()
        } catch {
            printError("whisperctl runbook plan: \(error)")
            throw ExitStatus.failed
        }
        if let out {
            try AtomicFile.write(Array(SecretRegistry.shared.scrub(try RunbookPlanFile.encode(plan)).utf8), to: out, mode: 0o600)
        }
        print(SecretRegistry.shared.scrub(json ? try RunbookPlanFile.encode(plan) : RunbookPlanRendering.text(plan)))
        if plan.exitCode != 0 { throw ExitCode(plan.exitCode) }
    }
}

enum RunbookPlanFile {
    static func encode(_ plan: RunbookPlan) throws -> String {
        try RunbookJSON.text(plan)
    }

    static func decode(_ path: String) throws -> RunbookPlan {
        guard let data = FileManager.default.contents(atPath: path) else { throw OpsError(.invalidInput, "cannot read the saved plan", endpoint: path) }
        do { return try JSONDecoder().decode(RunbookPlan.self, from: data) } catch {
            throw OpsError(.invalidInput, "not a saved runbook plan: \(error)", endpoint: path)
        }
    }
}

enum RunbookPlanRendering {
    static func text(_ plan: RunbookPlan) -> String {
        var lines = ["plan for \(plan.runbook) (\(plan.path))" + (plan.parameters.isEmpty ? "" : ", " + plan.parameters.keys.sorted().map { "\($0)=\(plan.parameters[$0]!)" }.joined(separator: " ")), ""]
        for line in plan.lines {
            let indent = String(repeating: "  ", count: line.depth + 1)
            let tag = line.skipped != nil ? "SKIP" : line.effect.rawValue
            var text = "\(indent)\(tag.padding(toLength: 12, withPad: " ", startingAt: 0)) \(line.key) (\(line.kind))"
            if let skipped = line.skipped {
                lines.append(text + ": \(skipped)")
                continue
            }
            if !line.description.isEmpty { text += ": \(line.description)" }
            lines.append(text)
            let detail = indent + String(repeating: " ", count: 13)
            if let condition = line.condition { lines.append(detail + condition) }
            if let current = line.current { lines.append(detail + current) }
            if let problem = line.problem { lines.append(detail + "NOT PREVIEWED: \(problem)") }
        }
        lines.append("")
        let counts = plan.counts.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", ")
        lines.append("\(plan.active.count) steps: \(counts.isEmpty ? "nothing to do" : counts)")
        return lines.joined(separator: "\n")
    }
}

/// The operator's answer to a `confirm`: on the terminal within the wait, else rejected;
/// `--yes` answers only skippable ones.
enum RunbookQuestion {
    static func ask(_ question: String, wait: Duration, skippable: Bool, yes: Bool) -> RunbookAnswer {
        let me = AuditLog.operatorName
        if yes && skippable { return RunbookAnswer(.byFlag, by: me) }
        guard isatty(STDIN_FILENO) == 1 else { return RunbookAnswer(.noTerminal, by: me) }
        FileHandle.standardError.write(Data("\(SecretRegistry.shared.scrub(question)) [y/N] (rejects in \(wait.humanReadable)) ".utf8))
        var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(min(wait.seconds * 1000, Double(Int32.max)))
        guard poll(&descriptor, 1, milliseconds) > 0, let line = readLine() else {
            FileHandle.standardError.write(Data("\n".utf8))
            return RunbookAnswer(.timedOut, by: "nobody")
        }
        let answer = line.trimmingCharacters(in: .whitespaces).lowercased()
        return RunbookAnswer(answer == "y" || answer == "yes" ? .yes : .no, by: me)
    }
}

/// Live progress on stderr: each step as it starts and ends.
enum RunbookProgress {
    static func report(_ event: RunbookEngine.Event) {
        let line: String
        switch event {
        case .started(let key, let kind, let effect): line = "→ \(key) (\(kind), \(effect.rawValue))"
        case .finished(let step):
            let duration = step.startedAt.flatMap { start in step.endedAt.map { String(format: " in %.1f s", $0.timeIntervalSince(start)) } } ?? ""
            let detail = step.error ?? step.reason ?? step.summary ?? ""
            line = "  \(step.state.rawValue.uppercased()) \(step.key)\(duration)" + (detail.isEmpty ? "" : ": \(detail)")
        case .retrying(let key, let attempt, let after, let error): line = "  retry \(key) (attempt \(attempt + 1)) in \(after.humanReadable): \(error)"
        case .note(let text): line = "  \(text)"
        }
        printError(SecretRegistry.shared.scrub(line))
    }
}

/// Runs a record through the runner and prints its end.
private func execute(_ engine: RunbookEngine, _ record: RunbookRunRecord, resuming: Bool, yes: Bool, deployment: Inventory, command: String) async throws {
    let runner = Mutation.runner(deployment, wait: nil, yes: yes, quiet: false)
    let finished = try await Mutation.run(runner, RunRunbook(engine: engine, record: record, resuming: resuming), command: "runbook \(command)")
    var lines = ["run \(finished.id): \(finished.state.rawValue)" + (finished.reason.map { ": \($0)" } ?? "")]
    if let verdict = finished.verdict { lines.append("verdict \(verdict)") }
    if [.aborted, .timedOut, .failed].contains(finished.state) { lines.append("resume with: whisperctl runbook resume \(finished.id)") }
    print(SecretRegistry.shared.scrub(lines.joined(separator: "\n")))
    if finished.state.exitCode != 0 { throw ExitCode(finished.state.exitCode) }
    // A procedure that ran to its verdict exits as `status` would on it.
    if let verdict = finished.verdict?.split(separator: ":").first.flatMap({ HealthStatus(rawValue: String($0)) }), verdict != .ok {
        throw ExitCode(verdict.exitCode)
    }
}

struct RunbookRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Runs a runbook step by step, recording each step; Ctrl-C stops after the current step.",
        discussion: """
            Exit status: 0 succeeded, 1 rejected or aborted, 2 failed or timed out, 64 usage. A run that ends with a verdict \
            exits as status would on it: 1 warning, 2 critical, 3 unknown.
            """)
    @OptionGroup var inventory: InventoryOptions
    @OptionGroup var runbooks: RunbookDirectories
    @Argument(help: "A runbook's name or file.", completion: .custom { words, _, _ in Completions.runbookNames(words) }) var runbook: String
    @Option(name: .customLong("param"), help: ArgumentHelp("A parameter as NAME=VALUE; repeat it.", valueName: "name=value")) var parameters: [String] = []
    @Option(help: ArgumentHelp("A plan saved by 'runbook plan --out': refused when anything it was made from moved.", valueName: "file")) var plan: String?
    @Option(help: ArgumentHelp("Start at this step.", valueName: "step")) var from: String?
    @Option(help: ArgumentHelp("Run only this step.", valueName: "step")) var only: String?
    @Flag(help: "Confirm the run, and answer the confirm steps marked skippable.") var yes = false

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: false)
        let book = try loadRunbook(runbook, directories: runbooks.all(deployment), command: "run")
        let values = try resolveParameters(book, parameters, deployment, command: "run")
        for name in [from, only].compactMap({ $0 }) where !book.allSteps.contains(where: { $0.name == name }) {
            throw ValidationError("\(book.name) has no step '\(name)'")
        }
        if let plan {
            let saved = try RunbookPlanFile.decode(plan)
            let now = try await RunbookPlanner(runbook: book, parameters: values, inventory: deployment, environment: ProbeEnvironment(), whisperctlVersion: WhisperctlVersion.current).plan()
            let moved = saved.staleness(against: now)
            if !moved.isEmpty {
                printError(SecretRegistry.shared.scrub("whisperctl runbook run: the saved plan \(plan) is stale; nothing was run:\n" + moved.map { "  - \($0)" }.joined(separator: "\n")))
                printError("plan again: whisperctl runbook plan \(runbook) --out \(plan)")
                throw ExitStatus.refused
            }
        }
        var engine = RunbookEngine(
            runbook: book, parameters: values, inventory: deployment, environment: ProbeEnvironment(), store: RunbookRunStore(inventory: deployment),
            whisperctlVersion: WhisperctlVersion.current, ask: { [yes] question, wait, skippable in RunbookQuestion.ask(question, wait: wait, skippable: skippable, yes: yes) },
            report: RunbookProgress.report)
        engine.from = from
        engine.only = only
        let record = engine.newRecord()
        printError("run \(record.id): \(book.name)")
        try await execute(engine, record, resuming: false, yes: yes, deployment: deployment, command: "run")
    }
}

struct RunbookResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continues a run that stopped: what succeeded is not redone; a step in doubt is checked first, never repeated blindly.")
    @OptionGroup var inventory: InventoryOptions
    @Argument(help: "The run's id (see 'runbook runs').", completion: .custom { words, _, _ in Completions.runbookRunIDs(words) }) var id: String
    @Flag(name: .customLong("retry-step"), help: "Run the step that stopped the run again.") var retryStep = false
    @Flag(name: .customLong("skip-step"), help: "Skip the step that stopped the run (with --reason).") var skipStep = false
    @Option(help: "Why the step is skipped (recorded).") var reason: String?
    @Flag(name: .customLong("accept-changed"), help: "Resume with the runbook as it is now, though its steps changed since the run started.") var acceptChanged = false
    @Flag(help: "Confirm the resume, and answer the confirm steps marked skippable.") var yes = false

    func validate() throws {
        if retryStep && skipStep { throw ValidationError("--retry-step or --skip-step, not both") }
        if skipStep && (reason ?? "").isEmpty { throw ValidationError("--skip-step needs --reason TEXT (it is recorded)") }
    }

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: false)
        let store = RunbookRunStore(inventory: deployment)
        var record: RunbookRunRecord
        do { record = try store.load(id) } catch {
            printError("whisperctl runbook resume: \(error)")
            throw ExitStatus.failed
        }
        guard record.state != .succeeded, record.state != .succeededWithSkips else {
            printError("whisperctl runbook resume: run \(id) already \(record.state.rawValue); nothing to resume")
            throw ExitStatus.refused
        }
        // The recorded copy runs unless the file's steps changed and the change is accepted.
        let (recorded, _) = RunbookDecoder.decode(record.text, path: record.path)
        guard var book = recorded else {
            printError("whisperctl runbook resume: the run's copy of the runbook cannot be read")
            throw ExitStatus.failed
        }
        if let data = FileManager.default.contents(atPath: record.path), let current = RunbookDecoder.decode(String(decoding: data, as: UTF8.self), path: record.path).0,
            current.structure != record.structure
        {
            let before = Set(record.structure.split(separator: "\n")), after = Set(current.structure.split(separator: "\n"))
            let difference = before.subtracting(after).sorted().map { "  - \($0)" } + after.subtracting(before).sorted().map { "  + \($0)" }
            guard acceptChanged else {
                printError("whisperctl runbook resume: \(record.path) changed since run \(id) started; nothing was run:\n" + difference.joined(separator: "\n"))
                printError("resume it as recorded by restoring the file, or with the new steps: --accept-changed")
                throw ExitStatus.refused
            }
            book = try RunbookLibrary.load(record.path)
            record.structure = book.structure
            record.text = book.text
            record.resumes.append(.init(at: Date(), by: AuditLog.operatorName, how: "accept-changed"))
        }
        var given: [String: String] = [:]
        for parameter in book.parameters where parameter.kind != .secret { given[parameter.name] = record.parameters[parameter.name] }
        let values = try resolveParameters(book, given.map { "\($0.key)=\($0.value)" }, deployment, command: "resume")
        record.resumes.append(.init(at: Date(), by: AuditLog.operatorName, how: retryStep ? "retry-step" : (skipStep ? "skip-step" : "resume")))
        var engine = RunbookEngine(
            runbook: book, parameters: values, inventory: deployment, environment: ProbeEnvironment(), store: store, whisperctlVersion: WhisperctlVersion.current,
            ask: { [yes] question, wait, skippable in RunbookQuestion.ask(question, wait: wait, skippable: skippable, yes: yes) }, report: RunbookProgress.report)
        engine.resolution = retryStep ? .retry : (skipStep ? .skip(reason: reason ?? "") : nil)
        printError("resuming run \(record.id): \(book.name) (\(record.state.rawValue))")
        try await execute(engine, record, resuming: true, yes: yes, deployment: deployment, command: "resume")
    }
}

struct RunbookRuns: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "Run history; 'runs show ID' for one run's timeline, outputs, approvals and resumes.",
        subcommands: [RunbookRunsList.self, RunbookRunsShow.self], defaultSubcommand: RunbookRunsList.self)
}

struct RunbookRunsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Every run, newest first.")
    @OptionGroup var inventory: InventoryOptions
    @Flag(help: "JSON output.") var json = false

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let (runs, unreadable) = try RunbookRunStore(inventory: deployment).list()
        for problem in unreadable { printError("warning: \(problem)") }
        if json {
            print(try RunbookJSON.text(runs))
            return
        }
        let formatter = ISO8601DateFormatter()
        print(Table(headers: ["ID", "RUNBOOK", "STATE", "STARTED", "BY", "STEPS"], rows: runs.map { run in
            [run.id, run.runbook, run.state.rawValue, formatter.string(from: run.startedAt), run.user, "\(run.steps.filter { $0.state == .succeeded }.count)/\(run.steps.count)"]
        }).render())
    }
}

struct RunbookRunsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One run: each step's timeline and outcome, approvals, resumes.")
    @OptionGroup var inventory: InventoryOptions
    @Argument(help: "The run's id.", completion: .custom { words, _, _ in Completions.runbookRunIDs(words) }) var id: String
    @Flag(help: "JSON output (the record as stored).") var json = false

    func run() async throws {
        let deployment = try inventory.loadOrExit(json: json)
        let record: RunbookRunRecord
        do { record = try RunbookRunStore(inventory: deployment).load(id) } catch {
            printError("whisperctl runbook runs show: \(error)")
            throw ExitStatus.failed
        }
        if json {
            print(try RunbookJSON.text(record))
            return
        }
        let formatter = ISO8601DateFormatter()
        var lines = [
            "run \(record.id): \(record.runbook) \(record.state.rawValue)" + (record.reason.map { ": \($0)" } ?? ""),
            "by \(record.user)@\(record.host), started \(formatter.string(from: record.startedAt))" + (record.duration.map { String(format: ", %.1f s", $0) } ?? ""),
        ]
        if !record.parameters.isEmpty { lines.append("parameters: " + record.parameters.keys.sorted().map { "\($0)=\(record.parameters[$0]!)" }.joined(separator: " ")) }
        lines.append("")
        for step in record.steps {
            let duration = step.startedAt.flatMap { start in step.endedAt.map { String(format: " %.1f s", $0.timeIntervalSince(start)) } } ?? ""
            lines.append("  \(step.state.rawValue.uppercased().padding(toLength: 11, withPad: " ", startingAt: 0)) \(step.key) (\(step.kind), \(step.effect))\(duration)")
            for text in [step.summary, step.error.map { "error: \($0)" }, step.reason].compactMap({ $0 }) { lines.append("              \(text)") }
        }
        for approval in record.approvals { lines.append("approval: \(approval.step) \(approval.answer) by \(approval.by) at \(formatter.string(from: approval.at))") }
        for resume in record.resumes { lines.append("resume: \(resume.how) by \(resume.by) at \(formatter.string(from: resume.at))") }
        if !record.owedRollbacks.isEmpty { lines.append("rollbacks owed: \(record.owedRollbacks.joined(separator: ", "))") }
        if let verdict = record.verdict { lines.append("verdict \(verdict)") }
        print(SecretRegistry.shared.scrub(lines.joined(separator: "\n")))
    }
}
