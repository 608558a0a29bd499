import ArgumentParser
import Foundation
import OpsKit

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Schema migrations of the abuse-report database: status, up, down, goto, force, create.",
        discussion: """
            Migrations are numbered files in --dir (migrations.dir; default migrations/ beside the inventory): \
            NNN_name.up.sql and NNN_name.down.sql. Each runs in its own transaction with SET lock_timeout \
            (--lock-timeout, 5s) and is retried with backoff when a lock times out or a deadlock aborts it. \
            A file whose first lines hold '-- whisper:no-transaction' runs statement by statement (CREATE INDEX \
            CONCURRENTLY); if it fails part way its version is dirty until 'migrate force' records the state.
            Exit status: 0 done, 1 nothing to do or refused, 2 failed.

            Examples:
              whisperctl migrate status
              whisperctl migrate up --dry-run
              whisperctl migrate up --backup-first
              whisperctl migrate down --yes
              whisperctl migrate create add_report_status
            """,
        subcommands: [MigrateStatus.self, MigrateUp.self, MigrateDown.self, MigrateGoto.self, MigrateForce.self, MigrateCreate.self]
    )
}

/// Options every migrate subcommand takes.
struct MigrateOptions: ParsableArguments {
    @OptionGroup var inventory: InventoryOptions

    @Option(help: ArgumentHelp("The migrations directory (default: migrations.dir, else migrations/ beside the inventory).", valueName: "path"), completion: .directory)
    var dir: String?

    @Flag(help: "Print JSON.")
    var json = false

    func load() throws -> (Inventory, [Migration], String) {
        let deployment = try inventory.loadOrExit(json: json)
        let directory = dir ?? deployment.migrationsDirectory
        do {
            return (deployment, try MigrationDirectory.load(directory), directory)
        } catch {
            printError("whisperctl migrate: \(error)")
            throw ExitStatus.failed
        }
    }
}

/// Options of the subcommands that change the schema.
struct MigrateRunOptions: ParsableArguments {
    @Flag(help: "Print the exact SQL, in order, and change nothing.")
    var dryRun = false

    @Flag(name: .customLong("no-wait"), help: "Fail at once when another run holds the migration or operations lock (default: wait, saying who holds it).")
    var noWait = false

    @Option(name: .customLong("lock-timeout"), help: ArgumentHelp("SET lock_timeout for each migration (default: migrations.lock_timeout, else 5s).", valueName: "duration"))
    var lockTimeout: Duration?

    @Option(help: ArgumentHelp("Attempts after the first when a lock times out or a deadlock aborts a migration.", valueName: "n"))
    var retries = 3

    @Flag(help: "Do not ask for confirmation.")
    var yes = false
}

extension Migrate {
    /// Connects, takes the operations lock (unless a dry run) and runs `body` with a configured runner.
    static func withRunner<T>(
        _ options: MigrateOptions, _ run: MigrateRunOptions?, command: String, _ body: (MigrationRunner, Inventory) async throws -> T
    ) async throws -> T {
        let (deployment, migrations, _) = try options.load()
        guard let url = deployment.postgresURL else {
            printError("whisperctl migrate: no postgres.url in the inventory (or DATABASE_URL, --database-url)")
            throw ExitStatus.unknown
        }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(url: url, timeout: .seconds(10))
        } catch {
            printError("whisperctl migrate: \(error)")
            throw ExitStatus.failed
        }
        defer { connection.close() }
        var runnerOptions = MigrationRunner.Options()
        let quiet = options.json
        runnerOptions.lockTimeout = try run?.lockTimeout ?? deployment.duration(.migrationsLockTimeout, default: Inventory.defaultLockTimeout)
        runnerOptions.retries = max(0, run?.retries ?? 3)
        runnerOptions.noWait = run?.noWait ?? false
        runnerOptions.applicationName = "whisperctl \(command) \(AuditLog.operatorName)@\(ProcessInfo.processInfo.hostName) pid \(getpid())"
        runnerOptions.waiting = { holder in if !quiet { printError("waiting for the migration lock, held by \(holder)") } }
        runnerOptions.retrying = { line in printError("retrying: \(line)") }
        let runner = MigrationRunner(connection: connection, migrations: migrations, options: runnerOptions)
        do {
            return try await body(runner, deployment)
        } catch let status as ExitStatus {
            throw status
        } catch {
            printError("whisperctl \(command): \(error)")
            throw ExitStatus.failed
        }
    }

    /// Runs a schema change through the operations runner: the confirmation, the operations
    /// lock (waited for like the migration lock, unless --no-wait), the audit line.
    static func change(
        _ runner: MigrationRunner, _ change: MigrateSchema.Change, action: String, deployment: Inventory, run: MigrateRunOptions,
        json: Bool, command: String, backupFirst: Bool = false
    ) async throws -> MigrateSchema.Outcome {
        let database = (try? PostgresConnectionInfo(parsing: deployment.postgresURL ?? ""))?.database ?? "the database"
        let backup = backupFirst ? try TakeBackup(inventory: deployment, whisperctlVersion: WhisperctlVersion.current) : nil
        let operation = MigrateSchema(runner: runner, change: change, database: database, action: action, backupFirst: backup)
        let operations = Mutation.runner(deployment, wait: run.noWait ? nil : .seconds(86_400 * 365), yes: run.yes, quiet: json)
        let outcome = try await Mutation.run(operations, operation, command: command)
        if let entry = outcome.backup, !json { printError("backup \(entry.id) taken and verified before migrating") }
        return outcome
    }

    /// What a change would do, read from the database; nothing is changed or locked.
    static func pending(_ runner: MigrationRunner, _ change: MigrateSchema.Change, command: String) async throws -> (MigrationRunner.Direction, [Migration]) {
        do {
            return try await MigrateSchema(runner: runner, change: change, database: "", action: "").pending()
        } catch {
            printError("whisperctl \(command): \(error)")
            throw ExitStatus(OperationFailure.failed(error))
        }
    }

    static func report(_ migrations: [Migration], direction: MigrationRunner.Direction, json: Bool, dryRun: Bool, runner: MigrationRunner) {
        if json {
            print(JSONValue.object([
                ("direction", .string(direction.rawValue)), ("dry_run", .bool(dryRun)),
                ("migrations", .array(migrations.map { .object([("version", .int($0.version)), ("name", .string($0.name))]) })),
                ("sql", dryRun ? .string(runner.plan(migrations, direction: direction)) : .null),
            ]).prettyPrinted())
        } else if dryRun {
            print(migrations.isEmpty ? "-- nothing to do" : runner.plan(migrations, direction: direction))
        } else if migrations.isEmpty {
            print("nothing to do: the schema is " + (direction == .up ? "up to date" : "at the start"))
        } else {
            for migration in migrations { print("\(direction == .up ? "applied" : "reverted") \(migration.label)") }
        }
    }
}

struct MigrateStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Applied and pending migrations, with when, how long and whether files changed.")

    @OptionGroup var options: MigrateOptions

    func run() async throws {
        let (deployment, _, directory) = try options.load()
        try await Migrate.withRunner(options, nil, command: "migrate status") { runner, _ in
            let statuses = try await runner.status()
            func state(_ status: MigrationRunner.Status) -> String {
                if status.dirty { return "DIRTY" }
                if status.missingFile { return "applied, file missing" }
                if status.modified { return "applied, file changed" }
                return status.appliedAt == nil ? "pending" : "applied"
            }
            let formatter = ISO8601DateFormatter()
            if options.json {
                print(JSONValue.object([
                    ("directory", .string(directory)), ("database", .string((try? PostgresConnectionInfo(parsing: deployment.postgresURL ?? ""))?.endpoint ?? "")),
                    ("current", statuses.last(where: \.isApplied).map { .int($0.version) } ?? .null),
                    ("dirty", statuses.first(where: \.dirty).map { .int($0.version) } ?? .null),
                    ("pending", .int(statuses.filter { $0.appliedAt == nil }.count)),
                    ("migrations", .array(statuses.map { status in
                        .object([
                            ("version", .int(status.version)), ("name", .string(status.name)), ("state", .string(state(status))),
                            ("applied_at", status.appliedAt.map { .string(formatter.string(from: $0)) } ?? .null),
                            ("duration_ms", status.durationMilliseconds.map(JSONValue.int) ?? .null),
                            ("checksum_matches", .bool(!status.modified)), ("transactional", .bool(status.transactional)),
                        ])
                    })),
                ]).prettyPrinted())
            } else {
                let rows = statuses.map { status in
                    [
                        String(format: "%03d", status.version), status.name, state(status),
                        status.appliedAt.map { formatter.string(from: $0) } ?? "-",
                        status.durationMilliseconds.map { "\($0) ms" } ?? "-", status.transactional ? "yes" : "no",
                    ]
                }
                print(Table(headers: ["VERSION", "NAME", "STATE", "APPLIED AT", "DURATION", "TX"], rows: rows).render())
                let pending = statuses.filter { $0.appliedAt == nil }.count
                print("\n\(statuses.filter(\.isApplied).count) applied, \(pending) pending (\(directory))")
                if let dirty = statuses.first(where: \.dirty) {
                    print(MigrationDirtyError(version: dirty.version, name: dirty.name).description)
                }
            }
            if statuses.contains(where: \.dirty) { throw ExitStatus.warning }
        }
    }
}

struct MigrateUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "up", abstract: "Apply pending migrations: all, or the next N.")

    @Argument(help: "How many to apply (default: all pending).")
    var count: Int?

    @OptionGroup var options: MigrateOptions
    @OptionGroup var run: MigrateRunOptions

    @Flag(help: "Take a verified backup first (see 'whisperctl backup').")
    var backupFirst = false

    func validate() throws {
        if let count, count < 1 { throw ValidationError("N must be at least 1") }
    }

    func run() async throws {
        try await Migrate.withRunner(options, run, command: "migrate up") { runner, deployment in
            let (_, pending) = try await Migrate.pending(runner, .up(to: nil), command: "migrate up")
            let target = count.flatMap { pending.count >= $0 ? pending[$0 - 1].version : nil }
            let chosen = count.map { Array(pending.prefix($0)) } ?? pending
            if run.dryRun || chosen.isEmpty {
                Migrate.report(chosen, direction: .up, json: options.json, dryRun: run.dryRun, runner: runner)
                if chosen.isEmpty { throw ExitStatus.nothingToDo }
                return
            }
            let done = try await Migrate.change(
                runner, .up(to: target), action: "up", deployment: deployment, run: run, json: options.json, command: "migrate up", backupFirst: backupFirst)
            Migrate.report(done.migrations, direction: .up, json: options.json, dryRun: false, runner: runner)
        }
    }
}

struct MigrateDown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "down", abstract: "Revert the last N applied migrations (default 1).")

    @Argument(help: "How many to revert.")
    var count = 1

    @OptionGroup var options: MigrateOptions
    @OptionGroup var run: MigrateRunOptions

    func validate() throws {
        if count < 1 { throw ValidationError("N must be at least 1") }
    }

    func run() async throws {
        try await Migrate.withRunner(options, run, command: "migrate down") { runner, deployment in
            let applied = try await runner.status().filter { $0.appliedAt != nil }.map(\.version).sorted(by: >)
            let target = applied.count > count ? applied[count] : 0
            let (_, reverting) = try await Migrate.pending(runner, .down(to: target), command: "migrate down")
            if run.dryRun || reverting.isEmpty {
                Migrate.report(reverting, direction: .down, json: options.json, dryRun: run.dryRun, runner: runner)
                if reverting.isEmpty { throw ExitStatus.nothingToDo }
                return
            }
            let done = try await Migrate.change(runner, .down(to: target), action: "down", deployment: deployment, run: run, json: options.json, command: "migrate down")
            Migrate.report(done.migrations, direction: .down, json: options.json, dryRun: false, runner: runner)
        }
    }
}

struct MigrateGoto: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "goto", abstract: "Migrate up or down to version V (0: revert everything).")

    @Argument(help: "The version to end at.")
    var version: Int

    @OptionGroup var options: MigrateOptions
    @OptionGroup var run: MigrateRunOptions

    func run() async throws {
        try await Migrate.withRunner(options, run, command: "migrate goto") { runner, deployment in
            let planned = try await runner.goto(version, dryRun: true)
            if run.dryRun || planned.migrations.isEmpty {
                Migrate.report(planned.migrations, direction: planned.direction, json: options.json, dryRun: run.dryRun, runner: runner)
                if planned.migrations.isEmpty { throw ExitStatus.nothingToDo }
                return
            }
            let change: MigrateSchema.Change = planned.direction == .down ? .down(to: version) : .up(to: version)
            let done = try await Migrate.change(runner, change, action: "goto \(version)", deployment: deployment, run: run, json: options.json, command: "migrate goto")
            Migrate.report(done.migrations, direction: done.direction, json: options.json, dryRun: false, runner: runner)
        }
    }
}

struct MigrateForce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "force", abstract: "Record the schema as exactly at version V and clean, after a human fixed a dirty state. Runs no migration SQL.")

    @Argument(help: "The version the schema is now at.")
    var version: Int

    @OptionGroup var options: MigrateOptions
    @OptionGroup var run: MigrateRunOptions

    func run() async throws {
        try await Migrate.withRunner(options, run, command: "migrate force") { runner, deployment in
            guard !run.dryRun else {
                print("-- would record version \(version) as applied and clean, versions above it as not applied")
                return
            }
            let done = try await Migrate.change(runner, .force(version), action: "force", deployment: deployment, run: run, json: options.json, command: "migrate force")
            if options.json {
                print(JSONValue.object([("forced", .int(version)), ("statements", .array(done.statements.map(JSONValue.string)))]).prettyPrinted())
            } else {
                done.statements.forEach { print($0) }
                print("recorded: version \(version), clean")
            }
        }
    }
}

struct MigrateCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create the next numbered pair of migration files.")

    @Argument(help: "What it does, in lower case with underscores: add_report_status.")
    var name: String

    @OptionGroup var options: MigrateOptions

    @Flag(name: .customLong("no-transaction"), help: "Mark it to run outside a transaction (for CREATE INDEX CONCURRENTLY).")
    var noTransaction = false

    func validate() throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }), name.first?.isLetter == true else {
            throw ValidationError("the name takes lower-case letters, digits and underscores, starting with a letter: add_report_status")
        }
    }

    func run() throws {
        let deployment = try options.inventory.loadOrExit(json: options.json)
        let directory = options.dir ?? deployment.migrationsDirectory
        let existing = FileManager.default.fileExists(atPath: directory) ? try MigrationDirectory.load(directory) : []
        let next = (existing.map(\.version).max() ?? 0) + 1
        let label = String(format: "%03d_%@", next, name)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let header = noTransaction ? Migration.noTransactionMarker + "\n-- Runs statement by statement; if it fails part way, the version is dirty (see docs/migrations.md).\n" : ""
        let up = (directory as NSString).appendingPathComponent("\(label).up.sql")
        let down = (directory as NSString).appendingPathComponent("\(label).down.sql")
        for path in [up, down] where FileManager.default.fileExists(atPath: path) {
            printError("whisperctl migrate create: \(path) exists")
            throw ExitStatus.refused
        }
        try AtomicFile.write(Array((header + "-- \(label): what it changes and why.\n\n").utf8), to: up)
        try AtomicFile.write(Array((header + "-- Reverts \(label).\n\n").utf8), to: down)
        if options.json {
            print(JSONValue.object([("version", .int(next)), ("up", .string(up)), ("down", .string(down))]).prettyPrinted())
        } else {
            print("created \(up)\ncreated \(down)")
        }
    }
}
