import Foundation

/// Why a read step failed its `fail_on` bound.
struct StepCheckFailed: Error, CustomStringConvertible {
    var description: String
}

/// Reads whose result a step's `fail_on` may turn into a failure: `never` (the default: the
/// result is for later steps to branch on), `warning` or `critical`.
private func failOn(_ arguments: RunbookArguments) -> HealthStatus? {
    switch arguments.string("fail_on") {
    case "warning": .warning
    case "critical": .critical
    default: nil
    }
}

/// A read judged against `fail_on`: `status` and `diag`. The plan runs the read; a run fails the
/// step when the judged output is at least as bad as the bound.
protocol JudgedReadStep: RunbookStepAction {
    var arguments: RunbookArguments { get }
    /// The plan line's text.
    var what: String { get }
    /// The output `fail_on` compares ("overall", "worst").
    var judgedOutput: String { get }
    func read(in context: RunbookStepContext) async throws -> RunbookStepOutput
}

extension JudgedReadStep {
    var effect: RunbookEffect { .read }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        do {
            let output = try await read(in: context)
            return RunbookPreview(effect: .read, description: what, current: output.summary, output: output)
        } catch {
            return RunbookPreview(effect: .read, description: what, problem: "\(error)")
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let output = try await read(in: context)
        if let bound = failOn(arguments), case .string(let judged)? = output.outputs[judgedOutput],
            let status = HealthStatus(rawValue: judged), status.severity >= bound.severity
        {
            throw StepCheckFailed(description: output.summary)
        }
        return output
    }

    var components: String {
        let names = arguments.list("components")
        return names.isEmpty ? "every component" : names.joined(separator: ", ")
    }
}

/// `status`: the components' health, as `whisperctl status` reports it.
struct StatusStep: JudgedReadStep {
    var arguments: RunbookArguments
    var what: String { "status of \(components)" }
    var judgedOutput: String { "overall" }

    func read(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let runner = StatusRunner(inventory: context.inventory, environment: context.environment, only: arguments.list("components"))
        if let unknown = runner.unknownNames.first { throw StepCheckFailed(description: "no component named \(unknown); known: \(runner.componentNames.joined(separator: ", "))") }
        let report = await runner.run()
        let failing = report.components.filter { $0.status != .ok }
        let summary = "\(report.overall.rawValue): " + (failing.isEmpty
            ? "\(report.components.count) components ok"
            : failing.map { "\($0.name) \($0.status.rawValue) (\($0.detail))" }.joined(separator: "; "))
        return RunbookStepOutput(
            outputs: ["overall": .string(report.overall.rawValue), "failing": .list(failing.map { .string($0.name) })], summary: summary)
    }
}

/// `diag`: findings with catalogue ids (`redis.maxmemory-policy`) for `found()`.
struct DiagStep: JudgedReadStep {
    var arguments: RunbookArguments
    var what: String { "diag of \(components)" }
    var judgedOutput: String { "worst" }

    func read(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let components = arguments.list("components")
        var diagnosis = DeploymentDiagnosis(inventory: context.inventory, only: components)
        diagnosis.interval = try arguments.duration("interval", default: .seconds(1))
        let outcome = await diagnosis.run(in: context.environment)
        let serious = outcome.report.findings.filter { $0.severity == .critical || $0.severity == .warning }
        let ids = Array(Set(serious.map(\.id))).sorted()
        let worst: Finding.Severity = outcome.report.findings.min { $0.severity.rank < $1.severity.rank }?.severity ?? .unknown
        let summary = serious.isEmpty
            ? "\(outcome.report.findings.count) findings, none a warning"
            : serious.map { "\($0.id) (\($0.severity.rawValue)): \($0.summary)" }.joined(separator: "; ")
        let worstStatus = worst == .info ? "ok" : worst.rawValue
        return RunbookStepOutput(outputs: ["findings": .list(ids.map { .string($0) }), "worst": .string(worstStatus)], findings: ids, summary: summary)
    }
}

/// `cert.check`: the inventory's certificates (or `files`): days left and the worst problem.
struct CertificateCheckStep: RunbookStepAction {
    var arguments: RunbookArguments
    var effect: RunbookEffect { .read }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        do {
            let output = try read(in: context)
            return RunbookPreview(effect: .read, description: "check the certificates", current: output.summary, output: output)
        } catch {
            return RunbookPreview(effect: .read, description: "check the certificates", problem: "\(error)")
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let output = try read(in: context)
        if output.outputs["worst"] == .string("critical") { throw StepCheckFailed(description: output.summary) }
        return output
    }

    private func read(in context: RunbookStepContext) throws -> RunbookStepOutput {
        let files = arguments.list("files").map(context.inventory.resolve)
        let paths = files.isEmpty ? context.inventory.certificatePaths : files
        guard !paths.isEmpty else { throw StepCheckFailed(description: "no certificates: list certs in the inventory or give with.files") }
        let warnDays = Int(try arguments.number("warn_days") ?? 30)
        var least = Int.max
        var worst = HealthStatus.ok
        var lines: [String] = []
        for path in paths {
            let inspection = try CertificateInspection.file(path, host: nil, warnDays: warnDays, criticalDays: min(7, warnDays))
            least = min(least, inspection.daysLeft)
            worst = HealthStatus.worst([worst, inspection.status])
            lines.append("\((path as NSString).lastPathComponent) \(inspection.daysLeft) days left" + inspection.problems.map { " (\($0.1))" }.joined())
        }
        return RunbookStepOutput(outputs: ["days_left": .number(Double(least)), "worst": .string(worst.rawValue)], summary: lines.joined(separator: "; "))
    }
}

/// `redis.read`: one read-only command (the validator's list; checked again here, since the
/// command may come from a parameter).
struct RedisReadStep: RunbookStepAction {
    var arguments: RunbookArguments
    var effect: RunbookEffect { .read }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        let command = arguments.string("command") ?? ""
        do {
            let output = try await run(in: context)
            return RunbookPreview(effect: .read, description: "redis \(command)", current: output.summary, output: output)
        } catch {
            return RunbookPreview(effect: .read, description: "redis \(command)", problem: "\(error)")
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let command = try arguments.required("command")
        if let problem = RunbookValidator.redisProblem(command) { throw StepCheckFailed(description: problem) }
        guard let address = try context.inventory.redisAddress() else { throw StepCheckFailed(description: "no redis.addr in the inventory") }
        let connection = try await RedisConnection.connect(to: address, timeout: context.environment.timeout, pool: context.environment.pool, onCancel: .abandon)
        defer { connection.close() }
        let reply = try await connection.send(command.split(separator: " ").map(String.init))
        let value = Self.value(reply)
        let text = value.text
        return RunbookStepOutput(outputs: ["reply": value], summary: text.count > 200 ? String(text.prefix(200)) + "…" : text)
    }

    static func value(_ reply: RESPValue) -> RunbookValue {
        if let items = reply.array { return .list(items.map(value)) }
        if let number = reply.int { return .number(Double(number)) }
        if let text = reply.string { return Double(text).map(RunbookValue.number) ?? .string(text) }
        return .null
    }
}

/// `pg.read`: one query in a read-only transaction, rolled back.
struct PostgresReadStep: RunbookStepAction {
    var arguments: RunbookArguments
    var effect: RunbookEffect { .read }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        let sql = arguments.string("sql") ?? ""
        do {
            let output = try await run(in: context)
            return RunbookPreview(effect: .read, description: "SQL (read only): \(sql)", current: output.summary, output: output)
        } catch {
            return RunbookPreview(effect: .read, description: "SQL (read only): \(sql)", problem: "\(error)")
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let sql = try arguments.required("sql")
        guard let url = context.inventory.postgresURL else { throw StepCheckFailed(description: "no postgres.url in the inventory") }
        let connection = try await PostgresConnection.connect(url: url, timeout: context.environment.timeout, pool: context.environment.pool, onCancel: .abandon)
        defer { connection.close() }
        try await connection.query("BEGIN TRANSACTION READ ONLY")
        let result: PostgresResult
        do {
            result = try await connection.query(sql, timeout: context.environment.timeout)
        } catch {
            _ = try? await connection.query("ROLLBACK")
            throw error
        }
        // Nothing to keep: a read-only transaction ends with a rollback.
        _ = try? await connection.query("ROLLBACK")
        let rows: [RunbookValue] = result.rows.map { row in
            .list(row.values.map { cell in cell.map { Double($0).map(RunbookValue.number) ?? .string($0) } ?? .null })
        }
        let first: RunbookValue = { if case .list(let cells)? = rows.first { return cells.first ?? .null } else { return .null } }()
        return RunbookStepOutput(
            outputs: ["rows": .list(rows), "count": .number(Double(rows.count)), "value": first],
            summary: "\(rows.count) row\(rows.count == 1 ? "" : "s")" + (rows.count >= 1 ? ", first: \(first.text)" : ""))
    }
}
