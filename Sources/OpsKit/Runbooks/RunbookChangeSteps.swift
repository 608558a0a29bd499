import Foundation

/// A `confirm` the operator turned down, or that nobody answered in time.
struct ConfirmRejected: Error, CustomStringConvertible {
    var answer: RunbookAnswer
    var description: String {
        switch answer.kind {
        case .timedOut: "not confirmed in time: a confirm that nobody answers rejects"
        case .noTerminal: "no terminal to ask on, and this confirm is not skippable: --yes does not answer it"
        default: "rejected by \(answer.by)"
        }
    }
}

/// `confirm`: a person says yes, within `wait` (10 minutes by default); silence rejects.
struct ConfirmStep: RunbookStepAction {
    var arguments: RunbookArguments
    var skippable = false
    var effect: RunbookEffect { .gate }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        let wait = (try? arguments.duration("wait", default: .seconds(600))) ?? .seconds(600)
        let how = skippable ? "--yes answers it" : "--yes does not answer it"
        return RunbookPreview(effect: .gate, description: "ask: \(arguments.string("message") ?? "") (rejects after \(wait.humanReadable) unanswered; \(how))")
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let wait = try arguments.duration("wait", default: .seconds(600))
        let answer = await context.ask(try arguments.required("message"), wait, skippable)
        guard answer.approved else { throw ConfirmRejected(answer: answer) }
        return RunbookStepOutput(outputs: ["answer": .string(answer.kind.rawValue), "by": .string(answer.by)], summary: "approved by \(answer.by) (\(answer.kind.rawValue))")
    }
}

/// `shell`: the escape hatch. Never run by a plan, which shows its `preview` as NOT PREVIEWED.
/// Values reach it through `env` (NAME=VALUE lines), never its command line; its output is
/// masked like every other. With `check`, a resume can ask whether its effect is in place.
struct ShellStep: RunbookStepAction {
    var arguments: RunbookArguments
    var effect: RunbookEffect { .unknown }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        RunbookPreview(effect: .unknown, description: "NOT PREVIEWED: shell: \(arguments.string("preview") ?? "")")
    }

    private func runner(_ context: RunbookStepContext) -> ShellRunner {
        var environment: [String: String] = [:]
        for line in arguments.list("env") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            environment[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return ShellRunner(timeout: context.timeout, directory: context.inventory.baseDirectory, environment: environment)
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let output = SecretRegistry.shared.scrub(try await runner(context).run(try arguments.required("run"), what: "the shell step"))
        let tail = output.split(separator: "\n").suffix(3).joined(separator: " | ")
        return RunbookStepOutput(outputs: ["exit_code": .number(0), "output": .string(output)], summary: tail.isEmpty ? "exit 0" : "exit 0: \(tail)")
    }

    func check(in context: RunbookStepContext) async throws -> Bool? {
        guard let check = arguments.string("check") else { return nil }
        do {
            try await runner(context).run(check, what: "the shell step's check")
            return true
        } catch {
            return false
        }
    }
}

/// `haproxy.drain` / `haproxy.ready`: one server's state through HAProxy's runtime API.
struct HAProxyStateStep: RunbookStepAction {
    var arguments: RunbookArguments
    var state: SetServerState.State
    var effect: RunbookEffect { .mutate }

    private func operation(_ context: RunbookStepContext) throws -> SetServerState {
        guard let socket = context.inventory.haproxyRuntimeAPI else { throw StepCheckFailed(description: "no haproxy.runtime_api in the inventory") }
        let server = try arguments.required("server")
        guard context.inventory.servers.contains(where: { $0.name == server }) else {
            throw StepCheckFailed(description: "no server '\(server)' in the inventory")
        }
        return SetServerState(
            runtime: try HAProxyRuntimeAPI(parsing: socket, timeout: context.environment.timeout), backend: context.inventory.haproxyBackend, server: server,
            state: state)
    }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        let server = arguments.string("server") ?? "?"
        let what = "set server \(context.inventory.haproxyBackend)/\(server) state \(state.rawValue) (HAProxy runtime API \(context.inventory.haproxyRuntimeAPI ?? "not configured"))"
        do {
            _ = try operation(context)
            let stats = try await HAProxyStatsReader.stats(of: server, in: context)
            return RunbookPreview(effect: .mutate, description: what, current: "now: \(HAProxyWaitStep.describe(stats))")
        } catch {
            return RunbookPreview(effect: .mutate, description: what, problem: "\(error)")
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let operation = try operation(context)
        let before = try? await HAProxyStatsReader.stats(of: operation.server, in: context)
        try await context.operations.run(operation, confirmed: true)
        return RunbookStepOutput(outputs: ["before": before?["status"] ?? .null], summary: "\(operation.target) set to \(state.rawValue)")
    }

    func check(in context: RunbookStepContext) async throws -> Bool? {
        let operation = try operation(context)
        return try await operation.check(in: context.operations.context(for: operation))
    }
}

/// `backup`: a verified backup, as `whisperctl backup` takes it.
struct BackupStep: RunbookStepAction {
    var effect: RunbookEffect { .mutate }

    private func operation(_ context: RunbookStepContext) throws -> TakeBackup {
        try TakeBackup(inventory: context.inventory, whisperctlVersion: context.whisperctlVersion, notBefore: context.startedAt)
    }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        do {
            let operation = try operation(context)
            let plan = try await context.operations.plan(operation)
            return RunbookPreview(effect: .mutate, description: plan.steps.joined(separator: "; "))
        } catch {
            return RunbookPreview(effect: .mutate, description: "a backup", problem: "\(error)")
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let entry = try await context.operations.run(try operation(context), confirmed: true)
        return RunbookStepOutput(outputs: ["id": .string(entry.id), "path": .string(entry.path)], summary: "backup \(entry.id) taken and verified")
    }

    /// A verified backup taken since the step first started.
    func check(in context: RunbookStepContext) async throws -> Bool? {
        let operation = try operation(context)
        return try await operation.check(in: context.operations.context(for: operation))
    }
}

/// `migrate`: up (to a version, or all) or down to a version, as `whisperctl migrate` does.
struct MigrateStep: RunbookStepAction {
    var arguments: RunbookArguments

    var down: Bool { arguments.string("direction") == "down" }
    var effect: RunbookEffect { down ? .destructive : .mutate }

    private func change() throws -> MigrateSchema.Change {
        let to = try arguments.number("to").map { Int($0) }
        if down {
            guard let to else { throw StepCheckFailed(description: "step '\(arguments.step)': a migration down needs with.to (the version to end at)") }
            return .down(to: to)
        }
        return .up(to: to)
    }

    private func withOperation<T>(_ context: RunbookStepContext, _ body: (MigrateSchema) async throws -> T) async throws -> T {
        guard let url = context.inventory.postgresURL else { throw StepCheckFailed(description: "no postgres.url in the inventory") }
        let migrations = try MigrationDirectory.load(context.inventory.migrationsDirectory)
        let connection = try await PostgresConnection.connect(url: url, timeout: context.environment.timeout, pool: context.environment.pool)
        defer { connection.close() }
        var options = MigrationRunner.Options()
        options.lockTimeout = try context.inventory.duration(.migrationsLockTimeout, default: Inventory.defaultLockTimeout)
        let database = (try? PostgresConnectionInfo(parsing: url))?.database ?? "the database"
        let change = try change()
        let action: String = if case .down(let to) = change { "down to \(to)" } else { "up" }
        let operation = MigrateSchema(runner: MigrationRunner(connection: connection, migrations: migrations, options: options), change: change, database: database, action: action)
        return try await body(operation)
    }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        do {
            return try await withOperation(context) { operation in
                let pending = try await operation.pending()
                let names = pending.migrations.map { String(format: "%03d_%@", $0.version, $0.name) }
                let what = "\(down ? "revert" : "apply") on \(operation.database): " + (names.isEmpty ? "nothing (already there)" : names.joined(separator: ", "))
                return RunbookPreview(effect: effect, description: what)
            }
        } catch {
            return RunbookPreview(effect: effect, description: "migrate \(down ? "down" : "up")", problem: "\(error)")
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        try await withOperation(context) { operation in
            let before = try await operation.runner.status().filter { $0.appliedAt != nil }.map(\.version).max() ?? 0
            let outcome = try await context.operations.run(operation, confirmed: true)
            let after = try await operation.runner.status().filter { $0.appliedAt != nil }.map(\.version).max() ?? 0
            let names = outcome.migrations.map(\.name).joined(separator: ", ")
            return RunbookStepOutput(
                outputs: ["from": .number(Double(before)), "to": .number(Double(after))],
                summary: outcome.migrations.isEmpty ? "nothing to do (at \(after))" : "\(down ? "reverted" : "applied") \(names): \(before) → \(after)")
        }
    }

    func check(in context: RunbookStepContext) async throws -> Bool? {
        try await withOperation(context) { operation in try await operation.check(in: context.operations.context(for: operation)) }
    }
}

/// `restore`: a backup restored in one transaction (into `database`, or the inventory's), its
/// checksums checked first and every table's rows compared after. It replaces what the target
/// holds: DESTRUCTIVE.
struct RestoreStep: RunbookStepAction {
    var arguments: RunbookArguments
    var effect: RunbookEffect { .destructive }

    private func operation(_ context: RunbookStepContext) throws -> RestoreBackup {
        guard let url = context.inventory.postgresURL else { throw StepCheckFailed(description: "no postgres.url in the inventory") }
        return RestoreBackup(
            store: BackupStore(directory: context.inventory.backupDirectory), id: try arguments.required("backup"), databaseURL: url,
            targetDatabase: arguments.string("database"), withConfig: arguments.bool("with_config") ?? false)
    }

    func preview(in context: RunbookStepContext) async -> RunbookPreview {
        let what = "restore backup \(arguments.string("backup") ?? "?") into \(arguments.string("database").map { "database '\($0)'" } ?? "the inventory's database")"
        do {
            let operation = try operation(context)
            let plan = try await context.operations.plan(operation)
            return RunbookPreview(effect: .destructive, description: plan.steps.joined(separator: "; ") + " (its current contents are replaced)")
        } catch {
            return RunbookPreview(effect: .destructive, description: what, problem: "\(error)")
        }
    }

    func run(in context: RunbookStepContext) async throws -> RunbookStepOutput {
        let outcome = try await context.operations.run(try operation(context), confirmed: true)
        let rows = outcome.report.tables.reduce(0) { $0 + ($1.restored ?? 0) }
        guard outcome.report.matches else {
            let differing = outcome.report.tables.filter { $0.expected != $0.restored }.map { "\($0.table) \($0.restored.map(String.init) ?? "missing")/\($0.expected)" }
            throw StepCheckFailed(description: "restored, but row counts differ from the manifest: " + differing.joined(separator: ", "))
        }
        return RunbookStepOutput(
            outputs: ["id": .string(outcome.entry.id), "database": .string(outcome.report.database), "rows": .number(Double(rows))],
            summary: "backup \(outcome.entry.id) restored into \(outcome.report.database): \(outcome.report.tables.count) tables, \(rows) rows, as the manifest says")
    }

    /// The target holds the manifest's row counts.
    func check(in context: RunbookStepContext) async throws -> Bool? {
        let operation = try operation(context)
        return try await operation.check(in: context.operations.context(for: operation))
    }
}
